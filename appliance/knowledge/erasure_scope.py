"""What an erasure would remove: every stored copy of a document, a data subject or a user.

A subject is looked for as written and in the stored forms a policy gives it (hash tags),
case-insensitively, in: document names, chunk texts and sections, conversation titles,
messages and their stored citations, feedback corrections, the answer log (question, answers,
passages, corrections) and the prepared training sets. Nothing here changes anything.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from sqlalchemy import or_, select

from ..store import (AdapterTable, AnswerLogTable, ChunkTable, ConversationTable, DocumentTable,
                     FeedbackTable, MessageTable, SourceFileTable, UserTable)

LOG_TEXT = ("question", "answer", "model_answer", "reason", "shown", "retrieved", "citations",
            "check_result", "correction", "suggestion_reason")


@dataclass
class ErasureScope:
    """Everything one erasure removes (ids and counts; the texts are never copied out)."""

    kind: str                      # document | subject | user | expired
    documents: list[dict] = field(default_factory=list)   # {id, name, version, collection}
    chunks: list[int] = field(default_factory=list)       # of documents that stay
    conversations: list[int] = field(default_factory=list)
    messages: int = 0
    feedback: list[int] = field(default_factory=list)     # rows outside those conversations
    answer_log: list[int] = field(default_factory=list)
    dataset_examples: dict[str, int] = field(default_factory=dict)
    adapters: list[int] = field(default_factory=list)     # trained on those datasets
    source_files: list[dict] = field(default_factory=list)  # watched files still holding it

    @property
    def empty(self) -> bool:
        return not (self.documents or self.chunks or self.conversations or self.feedback or
                    self.answer_log or self.dataset_examples)

    def counts(self) -> dict[str, int]:
        return {"documents": len(self.documents), "chunks": len(self.chunks),
                "conversations": len(self.conversations), "messages": self.messages,
                "feedback": len(self.feedback), "answer_log": len(self.answer_log),
                "dataset_examples": sum(self.dataset_examples.values()),
                "adapters_flagged": len(self.adapters)}


def _mentions(columns, needles: list[str]):
    return or_(*[col.ilike(f"%{_escape(n)}%", escape="\\") for col in columns for n in needles])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def mentioning(sess, needles: list[str], scope: ErasureScope) -> None:
    """Fill `scope` with every row whose text mentions one of the needles."""
    docs = sess.execute(select(DocumentTable.id, DocumentTable.name, DocumentTable.version,
                               DocumentTable.collection)
                        .where(_mentions([DocumentTable.name], needles))).all()
    scope.documents = [{"id": d.id, "name": d.name, "version": d.version,
                        "collection": d.collection} for d in docs]
    whole = {d["id"] for d in scope.documents}
    scope.chunks = [c.id for c in sess.execute(
        select(ChunkTable.id, ChunkTable.document_id).where(
            _mentions([ChunkTable.text, ChunkTable.section], needles)))
        if c.document_id not in whole]
    convs = set(sess.scalars(select(ConversationTable.id).where(
        _mentions([ConversationTable.title], needles))))
    convs |= set(sess.scalars(select(MessageTable.conversation_id).where(
        _mentions([MessageTable.content, MessageTable.citations], needles))))
    _conversations(sess, sorted(convs), scope)
    scope.feedback = [f.id for f in sess.execute(
        select(FeedbackTable.id, MessageTable.conversation_id)
        .join(MessageTable, MessageTable.id == FeedbackTable.message_id)
        .where(_mentions([FeedbackTable.correction], needles)))
        if f.conversation_id not in set(scope.conversations)]
    columns = [getattr(AnswerLogTable, c) for c in LOG_TEXT]
    scope.answer_log = sorted(set(sess.scalars(select(AnswerLogTable.id).where(
        _mentions(columns, needles)))) | _log_of_messages(sess, scope))


def of_documents(sess, doc_ids: Iterable[int], scope: ErasureScope) -> None:
    """A document's rows, and the answer-log rows that showed its passages."""
    rows = sess.execute(select(DocumentTable.id, DocumentTable.name, DocumentTable.version,
                               DocumentTable.collection)
                        .where(DocumentTable.id.in_(list(doc_ids)))).all()
    scope.documents = [{"id": d.id, "name": d.name, "version": d.version,
                        "collection": d.collection} for d in rows]
    chunk_ids = set(sess.scalars(select(ChunkTable.id).where(
        ChunkTable.document_id.in_([d.id for d in rows]))))
    if not chunk_ids:
        return
    hits = []
    for row in sess.execute(select(AnswerLogTable.id, AnswerLogTable.shown,
                                   AnswerLogTable.retrieved)):
        used = {p.get("chunk_id") for p in json.loads(row.shown or "[]") +
                json.loads(row.retrieved or "[]") if isinstance(p, dict)}
        if used & chunk_ids:
            hits.append(row.id)
    scope.answer_log = hits


def of_user(sess, username: str, scope: ErasureScope) -> bool:
    """A user's conversations, feedback and logged answers; False when no such user."""
    user = sess.scalars(select(UserTable).where(UserTable.username == username)).first()
    if user is not None:
        _conversations(sess, list(sess.scalars(select(ConversationTable.id).where(
            ConversationTable.user_id == user.id))), scope)
        scope.feedback = [f for f in sess.scalars(select(FeedbackTable.id).join(
            MessageTable, MessageTable.id == FeedbackTable.message_id).where(
            FeedbackTable.user_id == user.id,
            MessageTable.conversation_id.not_in(scope.conversations or [-1])))]
    scope.answer_log = sorted(set(sess.scalars(select(AnswerLogTable.id).where(
        AnswerLogTable.actor == username))) | _log_of_messages(sess, scope))
    return user is not None or bool(scope.answer_log)


def _conversations(sess, conv_ids: list[int], scope: ErasureScope) -> None:
    scope.conversations = conv_ids
    scope.messages = len(list(sess.scalars(select(MessageTable.id).where(
        MessageTable.conversation_id.in_(conv_ids))))) if conv_ids else 0


def _log_of_messages(sess, scope: ErasureScope) -> set[int]:
    if not scope.conversations:
        return set()
    ids = list(sess.scalars(select(MessageTable.id).where(
        MessageTable.conversation_id.in_(scope.conversations))))
    return set(sess.scalars(select(AnswerLogTable.id).where(
        AnswerLogTable.message_id.in_(ids)))) if ids else set()


def watched_files(sess, scope: ErasureScope) -> None:
    """Watched files whose document goes: they stay out until they change at their origin."""
    ids = [d["id"] for d in scope.documents]
    if ids:
        scope.source_files = [{"source": r.source_id, "file": r.relpath} for r in sess.scalars(
            select(SourceFileTable).where(SourceFileTable.document_id.in_(ids)))]


def dataset_lines(root: Path, needles: list[str]) -> dict[str, int]:
    """Training examples (lines of train.jsonl / eval.jsonl) mentioning a needle, per set."""
    lowered = [n.casefold() for n in needles]
    out: dict[str, int] = {}
    for folder in sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []:
        n = 0
        for part in ("train.jsonl", "eval.jsonl"):
            path = folder / part
            if path.exists():
                n += sum(1 for line in path.read_text(encoding="utf-8").splitlines()
                         if any(x in line.casefold() or x in _unescaped(line) for x in lowered))
        if n:
            out[folder.name] = n
    return out


def _unescaped(line: str) -> str:
    """The JSON line's strings as text (a name with an accent is stored escaped or not)."""
    try:
        return json.dumps(json.loads(line), ensure_ascii=False).casefold()
    except ValueError:
        return ""


def adapters_trained_on(sess, root: Path, datasets: Iterable[str]) -> list[int]:
    digests = set()
    for name in datasets:
        try:
            digests.add(json.loads((root / name / "manifest.json").read_text())["data_sha256"])
        except (OSError, ValueError, KeyError):
            continue
    if not digests:
        return []
    return list(sess.scalars(select(AdapterTable.version).where(
        AdapterTable.data_sha256.in_(sorted(digests)))))
