"""ArcSight Common Event Format (CEF:0), one event per line.

Header fields escape backslash and pipe; extension values escape backslash, equals sign,
and line breaks (\\n, \\r), as the CEF specification requires.
"""
from __future__ import annotations

import ipaddress
import re

from ..events import EVENT_TYPES
from ..record import AuditRecord
from .base import ExportFormat, FormatError, epoch_ms

SEVERITY = {"success": 3, "failure": 6, "denied": 7, "error": 5}
LABELS = (("cs1", "target"), ("cs2", "requestId"), ("cs3", "details"), ("cs4", "prevHash"),
          ("cs5", "hash"), ("cs6", "ts"))
_KEY = re.compile(r"(?:^| )([A-Za-z0-9_]+)=")


def _header(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _ext(value: str) -> str:
    return (value.replace("\\", "\\\\").replace("=", "\\=")
            .replace("\r", "\\r").replace("\n", "\\n"))


def _unext(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"n": "\n", "r": "\r"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _is_ip(value: str) -> bool:
    try:
        return str(ipaddress.ip_address(value)) == value
    except ValueError:
        return False


def render(rec: AuditRecord, ctx: dict) -> str:
    title = EVENT_TYPES.get(rec.type).title if rec.type in EVENT_TYPES else rec.type
    head = ["CEF:0", "appliance", "appliance", ctx.get("product_version", ""), rec.type, title,
            str(SEVERITY.get(rec.outcome, 5))]
    pairs = [("rt", str(epoch_ms(rec.ts))), ("externalId", str(rec.seq))]
    if rec.actor is not None:
        pairs.append(("suser", rec.actor))
    if rec.source is not None:
        pairs += ([("src", rec.source)] if _is_ip(rec.source) else
                  [("flexString1Label", "source"), ("flexString1", rec.source)])
    pairs.append(("outcome", rec.outcome))
    values = {"target": rec.target, "requestId": rec.request_id, "details": rec.details,
              "prevHash": rec.prev_hash, "hash": rec.hash, "ts": rec.ts}
    for key, label in LABELS:
        if values[label] is not None:
            pairs += [(key + "Label", label), (key, values[label])]
    ext = " ".join(f"{k}={_ext(v)}" for k, v in pairs)
    return "|".join(_header(h) for h in head) + "|" + ext


def _split_header(line: str) -> tuple[list[str], str]:
    fields, cur, i = [], [], 0
    while len(fields) < 7:
        if i >= len(line):
            raise FormatError("CEF header has fewer than 8 fields")
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur.append(line[i + 1])
            i += 2
        elif ch == "|":
            fields.append("".join(cur))
            cur = []
            i += 1
        else:
            cur.append(ch)
            i += 1
    return fields, line[i:]


def parse(line: str, ctx: dict) -> AuditRecord:
    head, ext = _split_header(line)
    if head[0] != "CEF:0":
        raise FormatError("not a CEF:0 line")
    keys = list(_KEY.finditer(ext))
    if not keys or keys[0].start() != 0:
        raise FormatError("CEF extension does not start with key=value")
    values = {}
    for n, match in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(ext)
        values[match.group(1)] = _unext(ext[match.end():end])
    labelled = {values.get(k + "Label"): values.get(k) for k, _ in LABELS if k in values}
    try:
        source = values.get("src", values.get("flexString1"))
        return AuditRecord(int(values["externalId"]), labelled["ts"], head[4],
                           values.get("suser"), source, labelled.get("target"),
                           values["outcome"], labelled.get("requestId"), labelled["details"],
                           labelled["prevHash"], labelled["hash"])
    except (KeyError, ValueError) as exc:
        raise FormatError(f"CEF line lacks audit field {exc}") from None


FORMAT = ExportFormat("cef", "cef", render, parse, description="ArcSight CEF:0, one per line")
