"""Finding: one detected span of personal data, and deterministic overlap resolution."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True, order=False)
class Finding:
    """A span ``text[start:end]`` (end exclusive) judged to be ``type`` with ``score`` in [0, 1]."""

    type: str
    start: int
    end: int
    score: float
    source: str = field(default="", compare=False)

    def __len__(self) -> int:
        return self.end - self.start

    def overlaps(self, other: "Finding") -> bool:
        return self.start < other.end and other.start < self.end

    def as_dict(self) -> dict:
        """The JSON shape the CLI and benchmark use (no text, so no value leaks)."""
        return {"type": self.type, "start": self.start, "end": self.end,
                "score": round(self.score, 3)}


def _priority(f: Finding) -> tuple:
    # Higher score first, then the longer span, then the earlier one, then the type name:
    # a total order, so the same input always resolves to the same output.
    return (-f.score, -(f.end - f.start), f.start, f.type)


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep a non-overlapping subset, preferring score, then length, then position, then type.

    Findings of the same type that overlap are first merged into one span (their union, with the
    highest score), so two recognizers that agree never leave a fragment of the value behind.
    """
    merged = _merge_same_type(findings)
    kept: list[Finding] = []
    for f in sorted(merged, key=_priority):
        if not any(f.overlaps(k) for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.start, f.end))


def _merge_same_type(findings: Iterable[Finding]) -> list[Finding]:
    by_type: dict[str, list[Finding]] = {}
    for f in findings:
        if f.end > f.start:
            by_type.setdefault(f.type, []).append(f)
    out: list[Finding] = []
    for group in by_type.values():
        group.sort(key=lambda f: (f.start, f.end))
        current = group[0]
        for f in group[1:]:
            if f.start < current.end:
                current = Finding(current.type, current.start, max(current.end, f.end),
                                  max(current.score, f.score), current.source or f.source)
            else:
                out.append(current)
                current = f
        out.append(current)
    return out
