"""Syslog messages in RFC 5424 form, one per line (as a file of messages, no transport framing).

<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [STRUCTURED-DATA] MSG, facility 13
(log audit), MSGID = event type, the fields in one SD-ELEMENT whose values escape '"', '\\'
and ']'. The SD-ID uses private enterprise number 32473, which RFC 5612 reserves for
documentation; a site with its own number can change AUDIT_SD_ID.
"""
from __future__ import annotations

import re

from ..events import EVENT_TYPES
from ..record import AuditRecord
from .base import ExportFormat, FormatError

FACILITY_LOG_AUDIT = 13
SEVERITY = {"success": 6, "failure": 4, "denied": 4, "error": 3}
AUDIT_SD_ID = "audit@32473"
PARAMS = ("seq", "actor", "source", "target", "outcome", "requestId", "details", "prevHash",
          "hash")
_HEAD = re.compile(r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ")
_PARAM = re.compile(r' ([^= \]"]{1,32})="')


def host_name(raw: str) -> str:
    """HOSTNAME as RFC 5424 allows it: printable ASCII without spaces, or "-"."""
    clean = "".join(ch for ch in raw if 33 <= ord(ch) <= 126)[:255]
    return clean or "-"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def render(rec: AuditRecord, ctx: dict) -> str:
    pri = FACILITY_LOG_AUDIT * 8 + SEVERITY.get(rec.outcome, 5)
    values = {"seq": str(rec.seq), "actor": rec.actor, "source": rec.source,
              "target": rec.target, "outcome": rec.outcome, "requestId": rec.request_id,
              "details": rec.details, "prevHash": rec.prev_hash, "hash": rec.hash}
    sd = "".join(f' {k}="{_esc(values[k])}"' for k in PARAMS if values[k] is not None)
    title = EVENT_TYPES.get(rec.type).title if rec.type in EVENT_TYPES else rec.type
    return (f"<{pri}>1 {rec.ts} {host_name(ctx.get('host', '-'))} appliance - {rec.type} "
            f"[{AUDIT_SD_ID}{sd}] {title}")


def _read_value(line: str, i: int) -> tuple[str, int]:
    out = []
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] in '"\\]':
            out.append(line[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise FormatError("unterminated SD-PARAM value")


def parse(line: str, ctx: dict) -> AuditRecord:
    head = _HEAD.match(line)
    if not head or not line.startswith(f"[{AUDIT_SD_ID}", head.end()):
        raise FormatError("not an RFC 5424 audit message")
    i = head.end() + len(AUDIT_SD_ID) + 1
    values = {}
    while i < len(line) and line[i] != "]":
        param = _PARAM.match(line, i)
        if not param:
            raise FormatError("malformed SD-PARAM")
        values[param.group(1)], i = _read_value(line, param.end())
    if i >= len(line):
        raise FormatError("unterminated STRUCTURED-DATA")
    try:
        return AuditRecord(int(values["seq"]), head.group(2), head.group(6), values.get("actor"),
                           values.get("source"), values.get("target"), values["outcome"],
                           values.get("requestId"), values["details"], values["prevHash"],
                           values["hash"])
    except (KeyError, ValueError) as exc:
        raise FormatError(f"syslog message lacks audit field {exc}") from None


FORMAT = ExportFormat("syslog", "syslog", render, parse,
                      description="RFC 5424 syslog messages, one per line")
