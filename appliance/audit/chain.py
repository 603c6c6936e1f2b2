"""The hash chain in SQL: read the head, append rows, stream rows, store checkpoints and anchors.

Every function takes a DB-API cursor and a Dialect; appends must run inside Dialect.locked()
so that exactly one writer extends the chain at a time (no gaps, no forks).
"""
from __future__ import annotations

from typing import Iterable, Iterator

from .notes import Checkpoint
from .record import COLUMNS, GENESIS_HASH, AuditRecord, canonical_json, chain_hash, utc_ts
from .sql import Dialect

EVENTS = "audit_events"
SELECT_EVENTS = f"SELECT {', '.join(COLUMNS)} FROM {EVENTS}"
INSERT_EVENT = (f"INSERT INTO {EVENTS} ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})")
CHECKPOINT_COLUMNS = ("size", "head_hash", "ts", "note")
ANCHOR_COLUMNS = ("up_to_seq", "hash", "ts", "note")

# (type, actor, source, target, outcome, request_id, details_json): one event before it is chained.
EventSpec = tuple


def head(cur, d: Dialect) -> tuple[int, str]:
    """(seq, hash) of the newest event, else of the newest pruning anchor, else (0, zeros)."""
    cur.execute(d.sql(f"SELECT seq, hash FROM {EVENTS} ORDER BY seq DESC LIMIT 1"))
    row = cur.fetchone()
    if row is None:
        cur.execute("SELECT up_to_seq, hash FROM audit_anchors ORDER BY up_to_seq DESC LIMIT 1")
        row = cur.fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS_HASH)


def append(cur, d: Dialect, specs: Iterable[EventSpec]) -> list[AuditRecord]:
    """Chain and insert events after the current head; the caller holds the write lock."""
    seq, prev = head(cur, d)
    rows = []
    ts = utc_ts()
    for type_, actor, source, target, outcome, request_id, details in specs:
        seq += 1
        digest = chain_hash(prev, canonical_json(seq, ts, type_, actor, source, target, outcome,
                                                 request_id, details))
        rows.append(AuditRecord(seq, ts, type_, actor, source, target, outcome, request_id,
                                details, prev, digest))
        prev = digest
    if len(rows) == 1:
        cur.execute(d.sql(INSERT_EVENT), rows[0].row())
    elif rows:
        cur.executemany(d.sql(INSERT_EVENT), [r.row() for r in rows])
    return rows


def stream(conn, d: Dialect, first: int | None = None, last: int | None = None,
           batch: int = 5000) -> Iterator[tuple]:
    """Rows (as tuples in COLUMNS order) by ascending seq, optionally within [first, last]."""
    where, params = [], []
    if first is not None:
        where.append("seq >= ?")
        params.append(first)
    if last is not None:
        where.append("seq <= ?")
        params.append(last)
    sql = SELECT_EVENTS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY seq"
    cur = d.stream_cursor(conn)
    try:
        cur.execute(d.sql(sql), params)
        while True:
            rows = cur.fetchmany(batch)
            if not rows:
                return
            yield from rows
    finally:
        cur.close()


def seq_of_hash(cur, d: Dialect, digest: str) -> int | None:
    cur.execute(d.sql(f"SELECT seq FROM {EVENTS} WHERE hash = ?"), (digest,))
    row = cur.fetchone()
    return int(row[0]) if row else None


def bounds(cur, d: Dialect) -> tuple[int | None, int | None]:
    cur.execute(f"SELECT MIN(seq), MAX(seq) FROM {EVENTS}")
    low, high = cur.fetchone()
    return (None if low is None else int(low)), (None if high is None else int(high))


def seq_range_for_time(cur, d: Dialect, since: str | None, until: str | None
                       ) -> tuple[int | None, int | None]:
    """First seq at/after `since` and last seq before `until` (ts is fixed-width UTC text)."""
    cur.execute(d.sql(f"SELECT MIN(seq) FROM {EVENTS} WHERE ts >= ?"), (since or "",))
    first = cur.fetchone()[0]
    cur.execute(d.sql(f"SELECT MAX(seq) FROM {EVENTS} WHERE ts < ?"), (until or "~",))
    last = cur.fetchone()[0]
    return (None if first is None else int(first)), (None if last is None else int(last))


def insert_checkpoint(cur, d: Dialect, cp: Checkpoint) -> None:
    sql = d.insert_ignore("audit_checkpoints", CHECKPOINT_COLUMNS, "size")
    cur.execute(sql, (cp.size, cp.head_hash, cp.time, cp.note))


def latest_checkpoint_size(cur, d: Dialect) -> int:
    cur.execute("SELECT MAX(size) FROM audit_checkpoints")
    value = cur.fetchone()[0]
    return int(value or 0)


def checkpoint_rows(cur, d: Dialect) -> list[tuple[int, str, str, str]]:
    cur.execute(f"SELECT {', '.join(CHECKPOINT_COLUMNS)} FROM audit_checkpoints ORDER BY size")
    return [(int(r[0]), r[1], r[2], r[3]) for r in cur.fetchall()]


def anchor_rows(cur, d: Dialect) -> list[tuple[int, str, str, str]]:
    cur.execute(f"SELECT {', '.join(ANCHOR_COLUMNS)} FROM audit_anchors ORDER BY up_to_seq")
    return [(int(r[0]), r[1], r[2], r[3]) for r in cur.fetchall()]


def insert_anchor(cur, d: Dialect, cp: Checkpoint) -> None:
    marks = ", ".join("?" * len(ANCHOR_COLUMNS))
    cur.execute(d.sql(f"INSERT INTO audit_anchors ({', '.join(ANCHOR_COLUMNS)}) VALUES ({marks})"),
                (cp.size, cp.head_hash, cp.time, cp.note))


def delete_through(cur, d: Dialect, up_to_seq: int) -> int:
    """Remove events up to `up_to_seq`: allowed by the triggers only with a matching anchor."""
    cur.execute(d.sql("INSERT INTO audit_prune_guard (up_to_seq) VALUES (?)"), (up_to_seq,))
    cur.execute(d.sql(f"DELETE FROM {EVENTS} WHERE seq <= ?"), (up_to_seq,))
    removed = cur.rowcount
    cur.execute(d.sql("DELETE FROM audit_prune_guard WHERE up_to_seq = ?"), (up_to_seq,))
    return removed


def events_of_types(cur, d: Dialect, types: tuple[str, ...]) -> list[tuple]:
    marks = ", ".join("?" * len(types))
    cur.execute(d.sql(f"{SELECT_EVENTS} WHERE type IN ({marks}) ORDER BY seq"), types)
    return cur.fetchall()
