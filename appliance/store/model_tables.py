"""ORM table for the model registry: GGUF models an operator brought, one of them serving."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base


class ModelTable(Base):
    """A registered GGUF: where it is, its sha256 (checked at every load) and what its header
    says; `frame` is how it is prompted (completion: the few-shot frame; chat: its template).
    No active row means the bundled model serves."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    architecture: Mapped[str] = mapped_column(String(64), default="")
    parameters: Mapped[int] = mapped_column(BigInteger, default=0)
    quantization: Mapped[str] = mapped_column(String(32), default="")
    context_length: Mapped[int] = mapped_column(Integer, default=0)
    chat_template: Mapped[str | None] = mapped_column(Text, nullable=True)
    license: Mapped[str] = mapped_column(Text, default="{}")  # JSON: general.license* fields
    frame: Mapped[str] = mapped_column(String(16), default="completion")
    added_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    added_at: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    activated_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    activated_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
