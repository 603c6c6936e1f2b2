"""JSON Lines: one audit record per line, the row exactly as stored (details as an object)."""
from __future__ import annotations

import json

from ..record import AuditRecord
from .base import ExportFormat, FormatError


def render(rec: AuditRecord, ctx: dict) -> str:
    return json.dumps(rec.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse(line: str, ctx: dict) -> AuditRecord:
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return AuditRecord.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"not an audit JSON line: {exc}") from None


FORMAT = ExportFormat("jsonl", "jsonl", render, parse,
                      description="JSON Lines, one stored row per line")
