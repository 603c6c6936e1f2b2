"""The change sequence every node's indexes tail: one row per chunk added or removed, in
commit order (writers take one advisory lock on PostgreSQL, so a sequence number is never
committed after a larger one)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, String, text
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
    import time

    rows = [{"chunk_id": int(i), "op": "r"} for i in removed] + \
        [{"chunk_id": int(i), "op": "a"} for i in added]
    if not rows:
        return
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHANGES_LOCK})
    now = time.time()
    sess.execute(IndexChangeTable.__table__.insert(), [{**r, "at": now} for r in rows])
