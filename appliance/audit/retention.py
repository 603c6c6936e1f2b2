"""Retention: legal holds, and pruning old events behind a signed anchor.

Pruning is the only way rows leave audit_events. In one transaction it appends an audit.prune
event, stores a signed anchor (a checkpoint of the last pruned event), sets the guard row the
delete trigger demands, deletes, and clears the guard. Verification then starts at the anchor.
Holds are themselves audit events (audit.hold.set / audit.hold.release), so they are
tamper-evident too; an active hold keeps every event from its `since` time on (or all events).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..errors import AuditError
from . import chain
from .events import HOLD_RELEASE, HOLD_SET, RETENTION_PRUNE, event_spec
from .notes import Checkpoint
from .record import parse_ts, utc_ts


@dataclass(frozen=True)
class Hold:
    name: str
    since: str | None  # None: the hold keeps every event
    reason: str
    seq: int


@dataclass(frozen=True)
class PruneResult:
    cutoff: str
    up_to_seq: int | None = None
    removed: int = 0
    held_by: list[str] = field(default_factory=list)
    anchor: Checkpoint | None = None
    dry_run: bool = False

    def message(self) -> str:
        held = f" (kept by legal hold: {', '.join(self.held_by)})" if self.held_by else ""
        if self.up_to_seq is None:
            return f"nothing older than {self.cutoff} to prune{held}"
        verb = "would remove" if self.dry_run else "removed"
        return f"{verb} {self.removed} events up to seq {self.up_to_seq}{held}"


def active_holds(log) -> list[Hold]:
    holds: dict[str, Hold] = {}
    with log.dialect.reading() as conn:
        rows = chain.events_of_types(conn.cursor(), log.dialect, (HOLD_SET, HOLD_RELEASE))
    for row in rows:
        details = json.loads(row[8])
        if row[2] == HOLD_SET:
            holds[details["name"]] = Hold(details["name"], details.get("since"),
                                          details.get("reason", ""), row[0])
        else:
            holds.pop(details["name"], None)
    return sorted(holds.values(), key=lambda h: h.seq)


def place_hold(log, name: str, *, actor: str | None, since: str | None = None,
               reason: str = "", source: str | None = None) -> int:
    """Start a legal hold: events from `since` (default: all) are kept until it is released."""
    if not name or not name.strip():
        raise AuditError("a legal hold needs a name")
    if any(h.name == name for h in active_holds(log)):
        raise AuditError(f"legal hold {name!r} is already active")
    since_ts = utc_ts(parse_ts(since)) if since else None
    return log.record(HOLD_SET, actor=actor, source=source, target=f"hold:{name}",
                      details={"name": name, "since": since_ts, "reason": reason})


def release_hold(log, name: str, *, actor: str | None, source: str | None = None) -> int:
    if not any(h.name == name for h in active_holds(log)):
        raise AuditError(f"no active legal hold named {name!r}")
    return log.record(HOLD_RELEASE, actor=actor, source=source, target=f"hold:{name}",
                      details={"name": name})


def prune(log, *, actor: str | None, now: datetime | None = None, dry_run: bool = False,
          source: str | None = None) -> PruneResult:
    """Remove events older than settings.audit_retention_days, except those under a hold."""
    now = now or datetime.now(timezone.utc)
    cutoff = utc_ts(now - timedelta(days=int(log.settings.audit_retention_days)))
    holds = active_holds(log)
    limit = min([cutoff] + [h.since or "" for h in holds])
    held_by = [h.name for h in holds if (h.since or "") < cutoff]
    with log.dialect.reading() as conn:
        cur = conn.cursor()
        cur.execute(log.dialect.sql("SELECT MAX(seq), COUNT(*) FROM audit_events WHERE ts < ?"),
                    (limit,))
        up_to, count = cur.fetchone()
    if up_to is None:
        return PruneResult(cutoff, held_by=held_by, dry_run=dry_run)
    up_to = int(up_to)
    if dry_run:
        return PruneResult(cutoff, up_to, int(count), held_by, dry_run=True)
    result = log.verify(record=False)
    if not result.ok:
        raise AuditError(f"refusing to prune a log that does not verify: {result.message()}")
    with log.lock, log.dialect.locked(durable=True) as cur:
        cur.execute(log.dialect.sql("SELECT hash FROM audit_events WHERE seq = ?"), (up_to,))
        anchor = Checkpoint(log.origin, up_to, cur.fetchone()[0], utc_ts()).signed([log.signer()])
        chain.append(cur, log.dialect, [event_spec(
            RETENTION_PRUNE, actor=actor, source=source, target=f"audit_events:..{up_to}",
            details={"up_to_seq": up_to, "up_to_hash": anchor.head_hash, "cutoff": cutoff,
                     "retention_days": int(log.settings.audit_retention_days),
                     "held_by": held_by})])
        chain.insert_anchor(cur, log.dialect, anchor)
        removed = chain.delete_through(cur, log.dialect, up_to)
    log.checkpoint()
    return PruneResult(cutoff, up_to, removed, held_by, anchor)
