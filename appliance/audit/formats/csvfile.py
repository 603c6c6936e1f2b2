"""CSV (RFC 4180 quoting, \\n line ends) with a header row; one stored row per line.

Cells that a spreadsheet would run as a formula (starting = + - @ tab CR, or ') get a leading
apostrophe, which the reader removes again, so the export stays exact and harmless in Excel.
"""
from __future__ import annotations

import csv
import io

from ..record import COLUMNS, AuditRecord
from .base import ExportFormat, FormatError

HEADER = ",".join(COLUMNS)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
TEXT_FIELDS = ("actor", "source", "target", "request_id")


def _cell(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


def _uncell(value: str) -> str | None:
    if value == "":
        return None
    return value[1:] if value.startswith("'") else value


def render(rec: AuditRecord, ctx: dict) -> str:
    buf = io.StringIO()
    row = [str(rec.seq), rec.ts, rec.type, _cell(rec.actor), _cell(rec.source),
           _cell(rec.target), rec.outcome, _cell(rec.request_id), rec.details,
           rec.prev_hash, rec.hash]
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()[:-1]


def parse(line: str, ctx: dict) -> AuditRecord:
    try:
        rows = list(csv.reader([line], strict=True))
        if len(rows) != 1 or len(rows[0]) != len(COLUMNS):
            raise ValueError(f"expected {len(COLUMNS)} cells")
        cells = rows[0]
        return AuditRecord(int(cells[0]), cells[1], cells[2], _uncell(cells[3]),
                           _uncell(cells[4]), _uncell(cells[5]), cells[6], _uncell(cells[7]),
                           cells[8], cells[9], cells[10])
    except (ValueError, csv.Error) as exc:
        raise FormatError(f"not an audit CSV row: {exc}") from None


FORMAT = ExportFormat("csv", "csv", render, parse, header=HEADER,
                      description="CSV with a header row")
