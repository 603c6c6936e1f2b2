"""ORM table for the adapter registry: one row per registered LoRA adapter version."""
from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base


class AdapterTable(Base):
    """A GGUF LoRA adapter: file hash, the base model and data it was trained on, its metrics.

    At most one row is active; the serving generator applies it (appliance.tuning.live).
    """

    __tablename__ = "adapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    base_sha256: Mapped[str] = mapped_column(String(64))
    data_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    training: Mapped[str] = mapped_column(Text, default="{}")  # JSON: config, time, loss
    metrics: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the last `tune eval`
    # Logits taken off the refusal's first token when serving (calibrated by `tune eval`).
    refusal_bias: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # The least question-answer relevance an answer needs (appliance.answer_check); None: off.
    min_relevance: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    activated_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    activated_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # JSON: the erasures that removed examples it was trained on (it should be retrained)
    erased_data: Mapped[str | None] = mapped_column(Text, nullable=True)
