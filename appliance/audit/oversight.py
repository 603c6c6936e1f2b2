"""OversightService: what admins and auditors look at: the audit log (filtered, verified,
exported as a signed bundle) and the active PII policy. Reading only, except that a
verification and an export are themselves recorded in the log.
"""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select, text

from ..errors import AuditError, InvalidRequest
from ..store import AuditEventTable, Store
from .events import EVENT_TYPES, OUTCOMES
from .formats import FORMATS
from .record import parse_ts, utc_ts

Authorize = Callable[[Any], None]  # raises unless the principal may read the audit log

PAGE = 100


@dataclass(frozen=True)
class AuditFilter:
    type: str = ""
    actor: str = ""
    outcome: str = ""
    since: str = ""
    until: str = ""
    before_seq: int | None = None


@dataclass(frozen=True)
class AuditRow:
    seq: int
    ts: str
    type: str
    actor: str | None
    source: str | None
    target: str | None
    outcome: str
    details: str


@dataclass(frozen=True)
class PolicySummary:
    name: str
    sha256: str
    description: str
    source: str
    paths: tuple[str, ...]
    rules: tuple[tuple[str, str, str], ...]  # (entity, action, paths)
    collection_policies: tuple[tuple[str, str], ...] = ()  # (collection, policy name)


class OversightService:
    """`require_audit` is the accounts flow's check, handed in by the wiring so that this
    capability never imports a flow."""

    def __init__(self, store: Store, audit, policy, require_audit: Authorize,
                 collection_policies: dict | None = None):
        self.store, self.audit, self.policy = store, audit, policy
        self.require_audit = require_audit
        self.collection_policies = dict(collection_policies or {})

    def store_problem(self) -> str | None:
        """None when the store answers a query; otherwise what went wrong (for /readyz)."""
        try:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any driver error means "not ready"
            return f"store unreachable ({type(exc).__name__})"
        return None

    @staticmethod
    def event_types() -> list[str]:
        return EVENT_TYPES.names()

    @staticmethod
    def outcomes() -> tuple[str, ...]:
        return OUTCOMES

    @staticmethod
    def formats() -> list[str]:
        return FORMATS.names()

    def events(self, principal, flt: AuditFilter) -> list[AuditRow]:
        """Newest first, at most one page, older than `before_seq` when given."""
        self.require_audit(principal)
        t = AuditEventTable
        stmt = select(t).order_by(t.seq.desc()).limit(PAGE)
        if flt.type:
            stmt = stmt.where(t.type == flt.type)
        if flt.actor:
            stmt = stmt.where(t.actor == flt.actor)
        if flt.outcome:
            stmt = stmt.where(t.outcome == flt.outcome)
        if flt.since:
            stmt = stmt.where(t.ts >= _bound(flt.since))
        if flt.until:
            stmt = stmt.where(t.ts < _bound(flt.until))
        if flt.before_seq is not None:
            stmt = stmt.where(t.seq < flt.before_seq)
        with self.store.read_session() as sess:  # the standby, where there is one
            return [AuditRow(r.seq, r.ts, r.type, r.actor, r.source, r.target, r.outcome,
                             r.details) for r in sess.scalars(stmt)]

    def verify(self, principal, source: str | None = None):
        self.require_audit(principal)
        return self.audit.verify(actor=principal.username)

    def export_zip(self, principal, fmt: str, since: str = "", until: str = "",
                   source: str | None = None) -> tuple[str, bytes]:
        """A zip of the signed export (events file + manifest.json); returns (name, bytes)."""
        self.require_audit(principal)
        if fmt not in FORMATS.names():
            raise InvalidRequest(f"format must be one of {', '.join(FORMATS.names())}")
        with tempfile.TemporaryDirectory(prefix="audit-export-") as tmp:
            out = Path(tmp) / "export"
            manifest = self.audit.export(fmt, out, since=since or None, until=until or None,
                                         actor=principal.username, source=source)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for path in sorted(out.iterdir()):
                    zf.write(path, path.name)
        stamp = manifest["created"][:19].replace(":", "").replace("-", "")
        return f"audit-{fmt}-{stamp}.zip", buf.getvalue()

    def policy_summary(self, principal) -> PolicySummary:
        self.require_audit(principal)
        p = self.policy
        rules = tuple((name, rule.action, ", ".join(sorted(rule.paths)))
                      for name, rule in sorted(p.entities.items()))
        return PolicySummary(p.name, p.sha256, p.description, p.source,
                             tuple(sorted(p.paths)), rules,
                             tuple(sorted(self.collection_policies.items())))


def _bound(text: str) -> str:
    try:
        return utc_ts(parse_ts(text))
    except AuditError as exc:
        raise InvalidRequest(str(exc)) from None


def pretty_details(details: str) -> str:
    try:
        return json.dumps(json.loads(details), indent=1, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return details
