"""The change sequence every node's indexes tail: one row per chunk added or removed, in
commit order (writers take one advisory lock on PostgreSQL, so a sequence number is never
committed after a larger one)."""
from __future__ import annotations

import time

from sqlalchemy import BigInteger, Float, Integer, String, delete, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base

SeqType = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid is an INTEGER
CHANGES_LOCK = 7351963  # pg_advisory_xact_lock key of the writers (beside the migrate lock)


class IndexChangeTable(Base):
    __tablename__ = "index_changes"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    chunk_id: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(1))  # a: added (or re-embedded), r: removed
    at: Mapped[float] = mapped_column(Float)


def record_changes(sess, added, removed) -> None:
    """Add the chunks' changes to the sequence inside the writer's own transaction."""
    rows = [{"chunk_id": int(i), "op": "r"} for i in removed] + \
        [{"chunk_id": int(i), "op": "a"} for i in added]
    if not rows:
        return
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGES_LOCK})
    now = time.time()
    sess.execute(IndexChangeTable.__table__.insert(), [{**r, "at": now} for r in rows])


class IndexNodeTable(Base):
    """How far each node's indexes have applied the change sequence, and when it last said
    so (`appliance nodes`). The row named PRUNED holds the highest sequence number pruning
    has removed: a node behind it rebuilds from the store instead of tailing."""
    __tablename__ = "index_nodes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    applied_seq: Mapped[int] = mapped_column(BigInteger)
    seen_at: Mapped[float] = mapped_column(Float)


PRUNED = "~pruned"


def sequence_head(conn) -> int:
    """The last change in the sequence (0: none yet)."""
    return int(conn.execute(select(func.max(IndexChangeTable.seq))).scalar() or 0)


def pruned_through(conn) -> int:
    value = conn.execute(select(IndexNodeTable.applied_seq)
                         .where(IndexNodeTable.name == PRUNED)).scalar()
    return int(value or 0)


def report_position(store, name: str, applied_seq: int) -> None:
    """Upsert this node's position (one small write; every node has its own row)."""
    with store.session() as sess:
        row = sess.get(IndexNodeTable, name)
        if row is None:
            sess.add(IndexNodeTable(name=name, applied_seq=applied_seq, seen_at=time.time()))
        else:
            row.applied_seq, row.seen_at = applied_seq, time.time()


def prune_changes(store, keep_seconds: float, now: float | None = None) -> tuple[int, int]:
    """Delete the changes every node seen within `keep_seconds` has applied (and none newer
    than that window's start is needed by a node seen in it); a node silent for longer
    rebuilds from the store when it comes back. Returns (rows deleted, pruned through)."""
    now = time.time() if now is None else now
    with store.session() as sess:
        if sess.get_bind().dialect.name == "postgresql":  # one pruner at a time, and no
            sess.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGES_LOCK})
        head = sequence_head(sess.connection())
        live = sess.execute(select(func.min(IndexNodeTable.applied_seq)).where(
            IndexNodeTable.name != PRUNED, IndexNodeTable.seen_at >= now - keep_seconds)
        ).scalar()
        old = sess.execute(select(func.max(IndexChangeTable.seq)).where(
            IndexChangeTable.at < now - keep_seconds)).scalar()
        # Everything older than the window goes; within it, what every live node applied.
        through = max(int(old or 0), min(int(live), head) if live is not None else 0)
        # The newest row always stays: it carries the head (SQLite numbers a new row after
        # the largest one left, so an empty table would start the sequence again at 1).
        through = min(through, head - 1)
        if through <= 0:
            return 0, pruned_through(sess.connection())
        deleted = sess.execute(delete(IndexChangeTable).where(IndexChangeTable.seq <= through)
                               ).rowcount or 0
        mark = sess.get(IndexNodeTable, PRUNED)
        if mark is None:
            sess.add(IndexNodeTable(name=PRUNED, applied_seq=through, seen_at=now))
        elif through > mark.applied_seq:
            mark.applied_seq, mark.seen_at = through, now
        return deleted, max(through, mark.applied_seq if mark is not None else 0)


def sequence_state(store) -> dict:
    """The head of the sequence, the rows kept, the pruning watermark, and every node's
    position (for `appliance nodes`)."""
    with store.session() as sess:
        head = sequence_head(sess.connection())
        rows = int(sess.execute(select(func.count()).select_from(IndexChangeTable)).scalar())
        nodes = sess.scalars(select(IndexNodeTable).where(IndexNodeTable.name != PRUNED)
                             .order_by(IndexNodeTable.name)).all()
        pruned = pruned_through(sess.connection())
        now = time.time()
        return {"head": head, "change_rows": rows, "pruned_through": pruned,
                "nodes": [{"name": n.name, "applied_seq": n.applied_seq,
                           "behind": max(0, head - n.applied_seq),
                           "seen_seconds_ago": round(now - n.seen_at, 1)} for n in nodes]}
