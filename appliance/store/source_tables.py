"""ORM tables for watched sources (folders kept in sync) and the files seen in them."""
from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base


class SourceTable(Base):
    """A local or mounted folder whose supported files a collection mirrors. Globs are JSON
    lists; the sync state (last run, its outcome, what the watcher has seen since) is kept so
    that every node and every restart can show and resume it."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    collection: Mapped[str] = mapped_column(String(128))
    include: Mapped[str] = mapped_column(Text, default="[]")
    exclude: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[float] = mapped_column(Float)
    last_sync_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_ok_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_counts: Mapped[str] = mapped_column(Text, default="{}")
    pending: Mapped[int] = mapped_column(Integer, default=0)  # paths changed, not yet synced
    pending_since: Mapped[float | None] = mapped_column(Float, nullable=True)


class SourceFileTable(Base):
    """One file of a source as last synced: its stat (the hash cache's key), its content hash,
    the document it became, or why it could not."""

    __tablename__ = "source_files"
    __table_args__ = (UniqueConstraint("source_id", "relpath", name="uq_source_files_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"),
                                           index=True)
    relpath: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16))  # indexed | duplicate | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    synced_at: Mapped[float] = mapped_column(Float)
