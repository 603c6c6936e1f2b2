"""Vehicle identifiers: VIN (17 characters, no I/O/Q, with the North American check digit)."""
from __future__ import annotations

import re

from .base import PatternRecognizer

_VALUES = {**{str(i): i for i in range(10)},
           **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))),
           "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


class VinRecognizer(PatternRecognizer):
    """Vehicle identification numbers; a failed check digit is tolerated only with context."""

    name = "VIN"
    entity = "VEHICLE_ID"
    score = 0.8
    context = ("vin", "vehicle", "chassis", "car", "truck")
    pattern = re.compile(r"(?<![\w])(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-Z])[A-HJ-NPR-Z0-9]{17}(?![\w])")

    def validate(self, match: re.Match) -> float | None:
        s = match.group()
        total = sum(_VALUES[c] * w for c, w in zip(s, _WEIGHTS))
        check = "X" if total % 11 == 10 else str(total % 11)
        return self.score if s[8] == check else 0.2
