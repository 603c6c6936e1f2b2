"""AnswerLog: every answer (web, API, CLI) kept as audit material for its quality.

A row holds the redacted question, every retrieved passage with its score, the passages the
prompt showed (as shown, redacted), the answer as shown and the model's own words before the
support check replaced them, its citations, the path and why, the check's measures, timings,
and the model and adapter that answered. Labels come later (evaluation/: pre-labels and the
review queue). Retention follows `audit_retention_days`; `prune` removes older rows.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import delete, func, select, update

from ..errors import InvalidRequest, NotFoundError
from ..store import AnswerLogTable, FeedbackTable, Store

CHANNELS = ("web", "api", "cli", "eval", "synth")  # synth: pairs made for training
LABELS = ("wrong_fact", "wrong_format", "wrong_tone", "wrong_reasoning", "retrieval_miss",
          "correct", "other")
REVIEWS = ("pending", "accepted", "edited", "rejected")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedAnswer:
    id: int
    created_at: float
    channel: str
    actor: str | None
    message_id: int | None
    collections: str
    question: str
    answer: str
    model_answer: str
    path: str
    reason: str
    retrieved: list[dict]
    shown: list[dict]
    citations: list[dict]
    check: dict
    timings: dict
    model_sha256: str
    adapter_sha256: str | None
    suggestion: str | None
    suggestion_reason: str
    label: str | None
    labelled_by: str | None
    correction: str | None
    review: str
    feedback: dict | None = None  # the asking user's vote, for web answers

    @property
    def human_label(self) -> str | None:
        """A reviewer's label, else the asking user's: "correct" for an up-vote, the category of
        a down-vote ("other" when they gave none); None when nobody labelled it."""
        if self.label:
            return self.label
        if self.feedback:
            return self.feedback.get("category") or "other"
        return None


def _row_view(row: AnswerLogTable, feedback: dict | None = None) -> LoggedAnswer:
    return LoggedAnswer(row.id, row.created_at, row.channel, row.actor, row.message_id,
                        row.collections, row.question, row.answer, row.model_answer, row.path,
                        row.reason, json.loads(row.retrieved), json.loads(row.shown),
                        json.loads(row.citations), json.loads(row.check_result),
                        json.loads(row.timings), row.model_sha256, row.adapter_sha256,
                        row.suggestion, row.suggestion_reason, row.label, row.labelled_by,
                        row.correction, row.review, feedback)


def answer_row(question: str, answer: Any, channel: str, actor: str | None,
               collections: Iterable[str] | None, model_sha256: str | None,
               adapter_sha256: str | None) -> dict:
    """The log row's columns for one ChatService Answer."""
    verdict = getattr(answer, "verdict", None)
    best = getattr(verdict, "best", None)
    check = {"relevance": answer.relevance,
             "model_refused": getattr(verdict, "model_refused", None),
             "supported": getattr(verdict, "supported", None),
             "unsupported_reason": getattr(verdict, "reason", "") or "",
             "anchor": getattr(verdict, "anchor", None),
             "best_score": getattr(best, "score", None),
             "best_passage": getattr(best, "passage", None)}
    retrieved = [{"chunk_id": h.chunk_id, "doc_id": h.doc_id, "doc_name": h.doc_name,
                  "collection": h.collection, "section": h.section, "score": round(h.score, 6)}
                 for h in getattr(answer, "retrieved", None) or answer.hits]
    shown = [{"chunk_id": h.chunk_id, "doc_name": h.doc_name, "text": text}
             for h, text in zip(answer.hits, getattr(answer, "shown_texts", None)
                                or [h.text for h in answer.hits])]
    return {"created_at": time.time(), "channel": channel if channel in CHANNELS else "cli",
            "actor": actor, "collections": ",".join(sorted(collections))
            if collections is not None else "*",
            "question": question, "answer": answer.answer,
            "model_answer": getattr(verdict, "text", None) or answer.answer,
            "path": answer.path, "reason": answer.reason,
            "retrieved": json.dumps(retrieved), "shown": json.dumps(shown),
            "citations": json.dumps([{"n": c.n, "chunk_id": c.chunk_id, "doc_name": c.doc_name}
                                     for c in answer.citations]),
            "check_result": json.dumps(check), "timings": json.dumps(_timings(answer)),
            "model_sha256": model_sha256 or "", "adapter_sha256": adapter_sha256}


def _timings(answer: Any) -> dict:
    prompt = answer.tokens.get("prompt") or 0
    context = getattr(answer, "context_tokens", 0) or 0
    return {**answer.timings_ms, "prompt_tokens": prompt,
            "context_share": round(min(1.0, context / prompt), 3) if prompt else 0.0}


class AnswerLog:
    """Write and read the answer log."""

    def __init__(self, store: Store, retention_days: int | None = None):
        self.store = store
        self.retention_days = retention_days

    def record(self, columns: dict) -> int | None:
        """Add one answer; a failure to log is logged and never fails the answer."""
        try:
            with self.store.session() as s:
                row = AnswerLogTable(**columns)
                s.add(row)
                s.flush()
                return row.id
        except Exception as exc:  # noqa: BLE001 - the user's answer matters more
            log.warning("cannot write the answer log: %s", type(exc).__name__)
            return None

    def link_message(self, log_id: int | None, message_id: int) -> None:
        """Tie a web chat answer to its stored message (and so to the user's feedback)."""
        if log_id is None:
            return
        with self.store.session() as s:
            s.execute(update(AnswerLogTable).where(AnswerLogTable.id == log_id)
                      .values(message_id=message_id))

    def entries(self, last: int | None = None, since: float | None = None,
                collection: str | None = None, ids: Sequence[int] | None = None,
                review: str | None = None, channels: Sequence[str] | None = None
                ) -> list[LoggedAnswer]:
        """Newest `last` answers (oldest first), filtered; with the asker's feedback."""
        query = select(AnswerLogTable)
        if channels is not None:
            query = query.where(AnswerLogTable.channel.in_(list(channels)))
        if since is not None:
            query = query.where(AnswerLogTable.created_at >= since)
        if collection:
            like = f"%{collection}%"
            query = query.where((AnswerLogTable.collections == "*")
                                | AnswerLogTable.collections.like(like))
        if ids is not None:
            query = query.where(AnswerLogTable.id.in_(list(ids)))
        if review:
            query = query.where(AnswerLogTable.review == review)
        query = query.order_by(AnswerLogTable.id.desc())
        if last:
            query = query.limit(last)
        with self.store.session() as s:
            rows = list(s.scalars(query))[::-1]
            if collection:  # the LIKE above is a prefilter; match whole names
                rows = [r for r in rows if r.collections == "*"
                        or collection in r.collections.split(",")]
            votes = self._feedback(s, [r.message_id for r in rows if r.message_id])
            return [_row_view(r, votes.get(r.message_id)) for r in rows]

    @staticmethod
    def _feedback(s, message_ids: list[int]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        for chunk in range(0, len(message_ids), 500):
            for fb in s.scalars(select(FeedbackTable).where(
                    FeedbackTable.message_id.in_(message_ids[chunk:chunk + 500]))):
                out[fb.message_id] = {"rating": "up" if fb.rating > 0 else "down",
                                      "category": fb.category if fb.rating < 0 else "correct",
                                      "correction": fb.correction}
        return out

    def get(self, log_id: int) -> LoggedAnswer:
        found = self.entries(ids=[log_id])
        if not found:
            raise NotFoundError(f"no logged answer {log_id}")
        return found[0]

    def corrections(self) -> int:
        """Answers with a correction at hand: a reviewer's (not rejected) or the asker's."""
        corrected_by_user = select(FeedbackTable.message_id).where(
            FeedbackTable.correction.is_not(None))
        with self.store.session() as s:
            return int(s.scalar(select(func.count(AnswerLogTable.id)).where(
                AnswerLogTable.review != "rejected",
                AnswerLogTable.correction.is_not(None)
                | AnswerLogTable.message_id.in_(corrected_by_user))) or 0)

    def count(self) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(func.count(AnswerLogTable.id))) or 0)

    def suggest(self, suggestions: dict[int, tuple[str | None, str]]) -> None:
        """Store automatic pre-labels {id: (label or None, why)}; never touches a human label."""
        with self.store.session() as s:
            for log_id, (label, why) in suggestions.items():
                s.execute(update(AnswerLogTable).where(AnswerLogTable.id == log_id)
                          .values(suggestion=label, suggestion_reason=why or "-"))

    def clear_suggestions(self) -> int:
        """Forget the stored pre-labels of answers (synthetic pairs aside), so the rules in
        force make them again; returns how many were cleared."""
        with self.store.session() as s:
            result = s.execute(update(AnswerLogTable).where(
                AnswerLogTable.channel != "synth", AnswerLogTable.suggestion_reason != "")
                .values(suggestion=None, suggestion_reason=""))
            return int(result.rowcount or 0)

    def label(self, log_id: int, label: str, reviewer: str, review: str = "accepted",
              correction: str | None = None) -> LoggedAnswer:
        """A reviewer's verdict: the category, accepted / edited (with a corrected answer) /
        rejected."""
        if label not in LABELS:
            raise InvalidRequest(f"label must be one of {', '.join(LABELS)}")
        if review not in REVIEWS[1:]:
            raise InvalidRequest(f"review must be one of {', '.join(REVIEWS[1:])}")
        correction = (correction or "").strip() or None
        if review == "edited" and not correction:
            raise InvalidRequest("an edited answer needs the corrected answer")
        with self.store.session() as s:
            row = s.get(AnswerLogTable, log_id)
            if row is None:
                raise NotFoundError(f"no logged answer {log_id}")
            row.label, row.labelled_by, row.labelled_at = label, reviewer, time.time()
            row.review, row.correction = review, correction
        return self.get(log_id)

    def prune(self, before: float) -> int:
        """Remove answers logged before the time given (retention); returns how many."""
        with self.store.session() as s:
            result = s.execute(delete(AnswerLogTable).where(AnswerLogTable.created_at < before))
            return int(result.rowcount or 0)
