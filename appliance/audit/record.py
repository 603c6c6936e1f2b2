"""One audit row, its canonical JSON, and the chain hash that links it to the row before.

hash(n) = sha256(bytes(prev_hash) || canonical_json(n)), where canonical_json is the JSON
object of seq, ts, type, actor, source, target, outcome, request_id and details with keys
sorted, no spaces, UTF-8 (not \\u-escaped). The first row's prev_hash is 64 zeros.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from ..errors import AuditError

GENESIS_HASH = "0" * 64
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
COLUMNS = ("seq", "ts", "type", "actor", "source", "target", "outcome", "request_id",
           "details", "prev_hash", "hash")


def utc_ts(moment: datetime | None = None) -> str:
    """A fixed-width UTC timestamp that sorts as text, e.g. 2024-05-01T09:30:00.000001Z."""
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime(TS_FORMAT)


def parse_ts(text: str) -> datetime:
    """Read an ISO 8601 date or time (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(f"not an ISO 8601 date or time: {text!r} "
                         "(for example 2024-05-01 or 2024-05-01T09:30:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _s(value: str | None) -> str:
    # The C string encoder json.dumps(ensure_ascii=False) itself uses: same bytes, far faster.
    return "null" if value is None else encode_basestring(value)


def canonical_json(seq: int, ts: str, type_: str, actor: str | None, source: str | None,
                   target: str | None, outcome: str, request_id: str | None,
                   details: str) -> str:
    """The canonical JSON of a row; `details` is already canonical JSON text."""
    return (f'{{"actor":{_s(actor)},"details":{details},"outcome":{_s(outcome)},'
            f'"request_id":{_s(request_id)},"seq":{int(seq)},"source":{_s(source)},'
            f'"target":{_s(target)},"ts":{_s(ts)},"type":{_s(type_)}}}')


def chain_hash(prev_hash: str, canonical: str) -> str:
    try:
        prev = bytes.fromhex(prev_hash)
    except (ValueError, TypeError):
        prev = str(prev_hash).encode("utf-8")  # a damaged prev_hash still hashes; it won't match
    return hashlib.sha256(prev + canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    """A stored audit event, as read from the table or from an export line."""

    seq: int
    ts: str
    type: str
    actor: str | None
    source: str | None
    target: str | None
    outcome: str
    request_id: str | None
    details: str  # canonical JSON text
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: tuple) -> "AuditRecord":
        return cls(*row)

    def row(self) -> tuple:
        """The values in COLUMNS order, as the table stores them."""
        return (self.seq, self.ts, self.type, self.actor, self.source, self.target,
                self.outcome, self.request_id, self.details, self.prev_hash, self.hash)

    def canonical(self) -> str:
        return canonical_json(self.seq, self.ts, self.type, self.actor, self.source,
                              self.target, self.outcome, self.request_id, self.details)

    def computed_hash(self, prev_hash: str | None = None) -> str:
        """The hash this row should carry, chained on `prev_hash` (default: its own)."""
        return chain_hash(self.prev_hash if prev_hash is None else prev_hash, self.canonical())

    def details_obj(self) -> Any:
        return json.loads(self.details)

    def as_dict(self) -> dict[str, Any]:
        """The row as a plain dict, details parsed (for exports)."""
        out = {name: getattr(self, name) for name in COLUMNS}
        out["details"] = self.details_obj()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AuditRecord":
        """Inverse of as_dict; raises ValueError/KeyError/TypeError on a malformed dict."""
        if set(data) != set(COLUMNS):
            raise ValueError("fields differ from an audit record")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError("seq is not an integer")
        for name in ("ts", "type", "outcome", "prev_hash", "hash"):
            if not isinstance(data[name], str):
                raise ValueError(f"{name} is not a string")
        for name in ("actor", "source", "target", "request_id"):
            if data[name] is not None and not isinstance(data[name], str):
                raise ValueError(f"{name} is not a string")
        details = json.dumps(data["details"], sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False, allow_nan=False)
        return cls(seq, data["ts"], data["type"], data["actor"], data["source"], data["target"],
                   data["outcome"], data["request_id"], details, data["prev_hash"], data["hash"])
