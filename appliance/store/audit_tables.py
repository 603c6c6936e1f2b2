"""ORM tables for the audit log: events (hash-chained), checkpoints, pruning anchors, prune guard.

Rows are written only by appliance.audit (raw SQL, for speed); these classes exist so that
Alembic and read-only queries see the tables. Migration 0002_audit creates them together with
the triggers that forbid UPDATE and DELETE.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base

# INTEGER PRIMARY KEY is SQLite's rowid: the fastest possible key for an append-only log.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class AuditEventTable(Base):
    """One audit event; `hash` = sha256(prev_hash || canonical JSON of the row)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32), index=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str | None] = mapped_column(String, nullable=True, index=True)
    source: Mapped[str | None] = mapped_column(String, nullable=True)
    target: Mapped[str | None] = mapped_column(String, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String, nullable=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpointTable(Base):
    """A signed checkpoint (C2SP signed note) of the chain at `size` events."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, unique=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)


class AuditAnchorTable(Base):
    """A signed checkpoint left by retention pruning; verification restarts from it."""

    __tablename__ = "audit_anchors"

    up_to_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)


class AuditPruneGuardTable(Base):
    """Present only inside a pruning transaction; the delete trigger checks for it."""

    __tablename__ = "audit_prune_guard"

    up_to_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
