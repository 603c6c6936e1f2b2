"""ConversationService: a user's conversations, their messages, and feedback on answers.

Questions and corrections are stored as the PII policy's "prompt" path rewrites them, and
answers as they were streamed (already redacted on the "output" path), so the store never
holds more personal data than the model saw. Stored citations keep where a passage is, not
its text: the text is shown through the document view, which checks access on every read.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import select

from ..accounts import Principal
from ..errors import InvalidRequest, NotFoundError
from ..store import ConversationTable, FeedbackTable, MessageTable, Store
from .ask_service import AskService
from .followups import Turn

CATEGORIES = ("wrong_fact", "wrong_format", "wrong_tone", "wrong_reasoning", "other")
MAX_CORRECTION_CHARS = 4000


@dataclass(frozen=True)
class MessageView:
    id: int
    role: str
    content: str
    citations: list[dict]
    refused: bool
    status: str
    feedback: dict | None = None
    path: str = "generated"  # generated | quoted | refused
    path_reason: str = ""


@dataclass(frozen=True)
class ConversationView:
    id: int
    title: str
    updated_at: float
    messages: tuple[MessageView, ...] = ()


@dataclass(frozen=True)
class ChatPage:
    conversations: list[ConversationView]
    current: ConversationView | None
    collections: list[str]  # what the caller may search


def citation_json(c: Any, with_text: bool) -> dict:
    out = {"n": c.n, "doc_id": c.doc_id, "doc_name": c.doc_name, "page": c.page,
           "section": c.section, "chunk_id": c.chunk_id,
           "version": getattr(c, "version", 0), "ingested_at": getattr(c, "ingested_at", "")}
    if with_text:
        out["text"] = c.text
    return out


class ConversationService:
    """Conversations belong to one user; nobody else can list, read or change them."""

    def __init__(self, store: Store, asking: AskService, redactor_factory: Callable[[], Any],
                 answer_log: Any = None):
        self.store, self.asking, self.redactor_factory = store, asking, redactor_factory
        self.answer_log = answer_log  # web answers are tied to their message (and feedback)

    # -- reading --------------------------------------------------------------------------
    def page(self, principal: Principal, conversation_id: int | None = None) -> ChatPage:
        """Everything the chat page shows: the list, the open conversation, the collections."""
        current = self.get(principal, conversation_id) if conversation_id is not None else None
        return ChatPage(self.list(principal), current,
                        sorted(self.asking.access.readable(principal)))

    def list(self, principal: Principal, limit: int = 50) -> list[ConversationView]:
        with self.store.session() as sess:
            rows = sess.scalars(select(ConversationTable)
                                .where(ConversationTable.user_id == principal.user_id)
                                .order_by(ConversationTable.updated_at.desc()).limit(limit))
            return [ConversationView(r.id, r.title, r.updated_at) for r in rows]

    def get(self, principal: Principal, conversation_id: int) -> ConversationView:
        with self.store.session() as sess:
            conv = self._owned(sess, principal, conversation_id)
            msgs = sess.scalars(select(MessageTable)
                                .where(MessageTable.conversation_id == conv.id)
                                .order_by(MessageTable.id)).all()
            votes = {f.message_id: f for f in sess.scalars(select(FeedbackTable).where(
                FeedbackTable.user_id == principal.user_id,
                FeedbackTable.message_id.in_([m.id for m in msgs])))}
            views = tuple(
                MessageView(m.id, m.role, m.content, json.loads(m.citations or "[]"), m.refused,
                            m.status, _vote(votes.get(m.id)), m.path, m.path_reason)
                for m in msgs)
            return ConversationView(conv.id, conv.title, conv.updated_at, views)

    # -- asking ---------------------------------------------------------------------------
    def ask(self, principal: Principal, question: str, conversation_id: int | None = None,
            collections: Iterable[str] | None = None, source: str | None = None,
            gone: Callable[[], bool] | None = None) -> Iterator[tuple[str, dict]]:
        """Validate and enqueue now (errors raise here), then return the event stream."""
        stream = self.asking.start(principal, question, collections, source=source, gone=gone,
                                   channel="web")
        now = time.time()
        with self.store.session() as sess:
            if conversation_id is not None:
                conv_id = self._owned(sess, principal, conversation_id).id
                stream.history = self._turns(sess, conv_id)
            else:
                conv = ConversationTable(user_id=principal.user_id, title="", created_at=now,
                                         updated_at=now)
                sess.add(conv)
                sess.flush()
                conv_id = conv.id
        scope = f"conversation:{conv_id}"
        stored = self._redact(stream.question, scope)  # outside a write transaction
        with self.store.session() as sess:
            conv = sess.get(ConversationTable, conv_id)
            conv.title = conv.title or stored[:80]
            conv.updated_at = now
            asked = MessageTable(conversation_id=conv_id, role="user", content=stored,
                                 citations="[]", refused=False, status="done", created_at=now)
            sess.add(asked)
            sess.flush()
            asked_id = asked.id
        stream.scope = scope
        return self._events(stream, conv_id, asked_id)

    @staticmethod
    def _turns(sess, conv_id: int, limit: int = 2) -> tuple[Turn, ...]:
        """The conversation's last answered turns, oldest first (as stored: redacted)."""
        rows = sess.scalars(select(MessageTable).where(MessageTable.conversation_id == conv_id)
                            .order_by(MessageTable.id.desc()).limit(4 * limit)).all()[::-1]
        turns, asked = [], None
        for m in rows:
            if m.role == "user":
                asked = m.content
            elif asked is not None and m.status == "done":
                turns.append(Turn(asked, "" if m.refused else m.content))
                asked = None
        return tuple(turns[-limit:])

    def delete(self, principal: Principal, conversation_id: int) -> None:
        with self.store.session() as sess:
            sess.delete(self._owned(sess, principal, conversation_id))

    def _events(self, stream, conv_id: int, asked_id: int) -> Iterator[tuple[str, dict]]:
        yield "meta", {"conversation_id": conv_id, "question_id": asked_id}
        pieces: list[str] = []
        status = "cancelled"
        try:
            for kind, data in stream:
                if kind == "token":
                    pieces.append(data["text"])
                if kind != "done":
                    yield kind, data
                    continue
                answer = data["answer"]
                message_id = self._store_answer(conv_id, answer.answer, answer.refused,
                                                [citation_json(c, False)
                                                 for c in answer.citations], "done",
                                                answer.path, answer.reason)
                if self.answer_log is not None:
                    self.answer_log.link_message(getattr(answer, "log_id", None), message_id)
                status = "done"
                yield "done", {"message_id": message_id, "answer": answer.answer,
                               "short_answer": answer.short_answer,
                               "refused": answer.refused, "path": answer.path,
                               "reason": answer.reason,
                               "citations": [citation_json(c, True) for c in answer.citations],
                               "timings_ms": answer.timings_ms,
                               "queue_wait_ms": data["queue_wait_ms"]}
        except Exception:
            status = "error"
            raise
        finally:
            if status != "done":
                self._store_answer(conv_id, "".join(pieces).strip(), False, [], status)

    def _store_answer(self, conv_id: int, text: str, refused: bool, citations: list[dict],
                      status: str, path: str = "generated", reason: str = "") -> int:
        with self.store.session() as sess:
            row = MessageTable(conversation_id=conv_id, role="assistant", content=text,
                               citations=json.dumps(citations), refused=refused, status=status,
                               path=path, path_reason=reason, created_at=time.time())
            sess.add(row)
            sess.get(ConversationTable, conv_id).updated_at = time.time()
            sess.flush()
            return row.id

    # -- feedback -------------------------------------------------------------------------
    def feedback(self, principal: Principal, message_id: int, rating: str,
                 category: str | None = None, correction: str | None = None) -> int:
        """Record (or replace) the caller's verdict on one of their answers; returns the
        conversation id."""
        if rating not in ("up", "down"):
            raise InvalidRequest("rating must be 'up' or 'down'")
        category = category or None
        if category is not None and category not in CATEGORIES:
            raise InvalidRequest(f"category must be one of {', '.join(CATEGORIES)}")
        correction = (correction or "").strip() or None
        if correction and len(correction) > MAX_CORRECTION_CHARS:
            raise InvalidRequest(f"the correction is longer than {MAX_CORRECTION_CHARS} characters")
        with self.store.session() as sess:
            msg = sess.get(MessageTable, message_id)
            if msg is None or msg.role != "assistant":
                raise NotFoundError(f"no answer with id {message_id}")
            self._owned(sess, principal, msg.conversation_id)
            if correction:
                correction = self._redact(correction, f"conversation:{msg.conversation_id}")
            row = sess.scalars(select(FeedbackTable).where(
                FeedbackTable.message_id == message_id,
                FeedbackTable.user_id == principal.user_id)).first()
            if row is None:
                row = FeedbackTable(message_id=message_id, user_id=principal.user_id)
                sess.add(row)
            row.rating = 1 if rating == "up" else -1
            row.category = category if rating == "down" else None
            row.correction = correction
            row.created_at = time.time()
            return msg.conversation_id

    def feedback_examples(self) -> list[dict]:
        """Every rated answer with its question, for evaluation and tuning (all redacted)."""
        with self.store.session() as sess:
            rows = sess.execute(select(FeedbackTable, MessageTable)
                                .join(MessageTable, MessageTable.id == FeedbackTable.message_id)
                                .order_by(FeedbackTable.id)).all()
            out = []
            for fb, msg in rows:
                question = sess.scalars(select(MessageTable.content).where(
                    MessageTable.conversation_id == msg.conversation_id,
                    MessageTable.role == "user", MessageTable.id < msg.id)
                    .order_by(MessageTable.id.desc())).first()
                out.append({"message_id": msg.id, "question": question or "",
                            "answer": msg.content, "citations": json.loads(msg.citations),
                            "rating": "up" if fb.rating > 0 else "down",
                            "category": fb.category, "correction": fb.correction,
                            "created_at": fb.created_at})
            return out

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _owned(sess, principal: Principal, conversation_id: int) -> ConversationTable:
        conv = sess.get(ConversationTable, conversation_id)
        if conv is None or conv.user_id != principal.user_id:
            raise NotFoundError(f"no conversation with id {conversation_id}")
        return conv

    def _redact(self, text: str, scope: str) -> str:
        redactor = self.redactor_factory()
        return redactor.redact(text, "prompt", scope=scope).text if redactor else text


def _vote(row: FeedbackTable | None) -> dict | None:
    if row is None:
        return None
    return {"rating": "up" if row.rating > 0 else "down", "category": row.category,
            "correction": row.correction}
