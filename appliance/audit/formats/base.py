"""What an export format is, and the registry of formats (names are unique)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from ...errors import AuditError
from ..record import TS_FORMAT, AuditRecord

# Render context, fixed per export and stored in the signed manifest: host, product_version.
Context = dict


class FormatError(ValueError):
    """A line that cannot be read back as an audit record."""


@dataclass(frozen=True)
class ExportFormat:
    """One export format: one line per event, readable back exactly as it was written.

    `render(record, ctx)` gives the line (no newline); `parse(line, ctx)` gives the record back
    or raises FormatError. Offline verification relies on render(parse(line)) == line.
    """

    name: str
    suffix: str
    render: Callable[[AuditRecord, Context], str]
    parse: Callable[[str, Context], AuditRecord]
    header: str | None = None
    description: str = ""


class FormatRegistry:
    def __init__(self) -> None:
        self._formats: dict[str, ExportFormat] = {}

    def register(self, fmt: ExportFormat) -> None:
        if fmt.name in self._formats:
            raise ValueError(f"export format {fmt.name!r} is already registered")
        self._formats[fmt.name] = fmt

    def get(self, name: str) -> ExportFormat:
        try:
            return self._formats[name]
        except KeyError:
            raise AuditError(f"unknown export format {name!r}; choose one of "
                             f"{', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return list(self._formats)


def epoch_ms(ts: str) -> int:
    """Milliseconds since the epoch for a stored ts (what OCSF and CEF call time)."""
    moment = datetime.strptime(ts, TS_FORMAT).replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
