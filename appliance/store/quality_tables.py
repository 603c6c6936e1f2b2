"""ORM table for the answer log: every answer with what an auditor of quality needs."""
from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .tables import Base


class AnswerLogTable(Base):
    """One answer (web, API or CLI): the redacted question and answer, the passages retrieved
    and shown, the path the support check chose, timings, the model and adapter; then the
    automatic pre-label and a reviewer's label. JSON columns hold lists and small objects."""

    __tablename__ = "answer_log"
    __table_args__ = (Index("ix_answer_log_created", "created_at"),
                      Index("ix_answer_log_message", "message_id"),
                      Index("ix_answer_log_review", "review", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(8))  # web | api | cli | eval
    actor: Mapped[str | None] = mapped_column(String(256), nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # web chat answers
    collections: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text)  # redacted (the prompt path)
    answer: Mapped[str] = mapped_column(Text)    # as shown (redacted on the output path)
    model_answer: Mapped[str] = mapped_column(Text, default="")  # before quote or refusal
    path: Mapped[str] = mapped_column(String(16))  # generated | quoted | refused
    reason: Mapped[str] = mapped_column(Text, default="")
    retrieved: Mapped[str] = mapped_column(Text, default="[]")  # every hit, with its score
    shown: Mapped[str] = mapped_column(Text, default="[]")      # chunk ids in the prompt
    citations: Mapped[str] = mapped_column(Text, default="[]")
    check_result: Mapped[str] = mapped_column(Text, default="{}")  # the support check's measures
    timings: Mapped[str] = mapped_column(Text, default="{}")
    model_sha256: Mapped[str] = mapped_column(String(64), default="")
    adapter_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    suggestion: Mapped[str | None] = mapped_column(String(24), nullable=True)  # pre-label
    suggestion_reason: Mapped[str] = mapped_column(Text, default="")
    label: Mapped[str | None] = mapped_column(String(24), nullable=True)  # a reviewer's
    labelled_by: Mapped[str | None] = mapped_column(String(256), nullable=True)
    labelled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    correction: Mapped[str | None] = mapped_column(Text, nullable=True)
    review: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted |
    #                                                                     edited | rejected
