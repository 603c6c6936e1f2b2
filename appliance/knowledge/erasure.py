"""ErasureService: the right to erasure, reaching every copy, and proving it.

`plan` finds what an erasure of a document, a data subject or a user's data would remove (the
dry run shows it); `erase` removes it: documents and chunks from the store, their vectors from
the FAISS file and their words from the keyword index (rebuilt, not tombstoned), conversations,
feedback and answer-log rows, training examples from the prepared sets; adapters trained on
those sets are flagged (and taken out of service when `erasure_deactivates_adapters`); then the
database reclaims the space (SQLite VACUUM, PostgreSQL VACUUM FULL) so that no old page keeps
the text. It ends with a signed report (ids, counts and hashes, never the text) and an audit
event. Retention (`collection_retention`, `conversation_retention_days`) expires data by the
same path.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
from sqlalchemy import select, text

from ..errors import InvalidRequest, NotFoundError
from ..settings import Settings
from ..store import (AdapterTable, AnswerLogTable, ChunkTable, ConversationTable, DocumentTable,
                     FeedbackTable, MessageTable, SourceFileTable, Store, record_changes)
from . import erasure_scope as found
from .chunking import index_text
from .erasure_scope import ErasureScope

RECLAIM_TABLES = ("documents", "chunks", "conversations", "messages", "feedback", "answer_log",
                  "source_files", "ingest_jobs")


@dataclass
class Erasure:
    target_kind: str
    target_sha256: str
    scope: ErasureScope
    dry_run: bool
    report_path: Path | None = None
    remaining: dict[str, int] | None = None  # a subject's mentions found after the erasure
    deactivated: list[int] | None = None
    needles: tuple[str, ...] = ()  # the subject's stored forms (never written anywhere)


class ErasureService:
    def __init__(self, settings: Settings, store: Store, ingest_factory: Callable[[], Any],
                 audit: Any, policies: Callable[[], list], secret: Callable[[], bytes],
                 adapters: Callable[[], Any], signer: Callable[[], Any]):
        self.settings, self.store, self.audit = settings, store, audit
        self.ingest_factory, self.policies, self.secret = ingest_factory, policies, secret
        self.adapters, self.signer = adapters, signer

    @property
    def datasets_root(self) -> Path:
        from ..tuning import tuning_root

        return tuning_root(self.settings) / "datasets"

    # -- reports --------------------------------------------------------------------------
    @property
    def reports_dir(self) -> Path:
        return self.settings.data_dir / "erasure"

    def reports(self, keyring: dict) -> list[dict]:
        """The signed reports, newest first, each checked: {name, ok, problem, body}."""
        from ..audit import verify_report
        from ..errors import AuditError

        out = []
        for path in sorted(self.reports_dir.glob("erasure-*.json"), reverse=True):
            try:
                out.append({"name": path.name, "ok": True, "problem": "",
                            "body": verify_report(path.read_text(encoding="utf-8"), keyring)})
            except (AuditError, OSError, UnicodeDecodeError) as exc:
                out.append({"name": path.name, "ok": False, "problem": str(exc), "body": {}})
        return out

    def report_text(self, name: str) -> str:
        path = self.reports_dir / name
        if "/" in name or not name.startswith("erasure-") or not path.is_file():
            raise NotFoundError(f"no erasure report {name!r}")
        return path.read_text(encoding="utf-8")

    # -- finding --------------------------------------------------------------------------
    def plan(self, document: int | None = None, subject: str | None = None,
             user: str | None = None, expired: bool = False) -> Erasure:
        from ..privacy import stored_forms, subject_digest

        chosen = [k for k, v in (("document", document), ("subject", subject), ("user", user),
                                 ("expired", expired or None)) if v is not None]
        if len(chosen) != 1:
            raise InvalidRequest("name exactly one of --document, --subject, --user, --expired")
        kind = chosen[0]
        scope = ErasureScope(kind)
        with self.store.session() as sess:
            if kind == "document":
                found.of_documents(sess, [document], scope)
                if not scope.documents:
                    raise NotFoundError(f"no document with id {document}")
                value = f"doc:{document}"
            elif kind == "subject":
                value = (subject or "").strip()
                if len(value) < 3:
                    raise InvalidRequest("the subject must be at least 3 characters (a name, an "
                                         "identifier): shorter text would match everywhere")
                needles = stored_forms(value, self.policies(), self.secret())
                found.mentioning(sess, needles, scope)
                scope.dataset_examples = found.dataset_lines(self.datasets_root, needles)
            elif kind == "user":
                value = user or ""
                if not found.of_user(sess, value, scope):
                    raise NotFoundError(f"no user {value!r} and no answers logged for them")
            else:
                value = "expired"
                self._expired(sess, scope)
            found.watched_files(sess, scope)
            scope.adapters = found.adapters_trained_on(sess, self.datasets_root,
                                                        scope.dataset_examples)
        return Erasure(kind, subject_digest(kind, value, self.secret()), scope, True,
                       needles=tuple(needles) if kind == "subject" else ())

    def _expired(self, sess, scope: ErasureScope) -> None:
        now = datetime.now(timezone.utc)
        docs = []
        for collection, days in self.settings.collection_retention_map.items():
            cutoff = now - timedelta(days=days)
            docs += list(sess.scalars(select(DocumentTable.id).where(
                DocumentTable.collection == collection, DocumentTable.updated_at < cutoff)))
        if docs:
            found.of_documents(sess, docs, scope)
        days = self.settings.conversation_retention_days
        if days:
            convs = list(sess.scalars(select(ConversationTable.id).where(
                ConversationTable.updated_at < time.time() - days * 86400)))
            found._conversations(sess, convs, scope)
            scope.answer_log = sorted(set(scope.answer_log) | found._log_of_messages(sess, scope))

    # -- erasing --------------------------------------------------------------------------
    def erase(self, plan: Erasure, actor: str | None = None, subject: str | None = None) -> Erasure:
        """Carry out a plan made by `plan` (`subject`: its text, to check nothing is left)."""
        scope = plan.scope
        self._remove(scope, plan.needles, actor)
        self._purge_datasets(scope, subject)
        plan.deactivated = self._flag_adapters(scope, plan.target_sha256, actor)
        self._reclaim()
        if subject is not None:
            after = self.plan(subject=subject).scope
            plan.remaining = {k: v for k, v in after.counts().items() if k != "adapters_flagged"}
        plan.dry_run = False
        plan.report_path = self._report(plan, actor)
        return plan

    def _remove(self, scope: ErasureScope, needles: tuple[str, ...],
                actor: str | None) -> None:
        ingest = self.ingest_factory()
        indexes = ingest.indexes
        with indexes.write_lock():
            if scope.documents:
                ingest.delete_many([d["id"] for d in scope.documents], actor, reason="erasure")
            self._cut_chunks(scope.chunks, needles, ingest.embedder)
            with self.store.session() as sess:
                messages = list(sess.scalars(select(MessageTable.id).where(
                    MessageTable.conversation_id.in_(scope.conversations)))) \
                    if scope.conversations else []
                for table, column, ids in (
                        (FeedbackTable, FeedbackTable.message_id, messages),
                        (FeedbackTable, FeedbackTable.id, scope.feedback),
                        (MessageTable, MessageTable.id, messages),
                        (ConversationTable, ConversationTable.id, scope.conversations),
                        (AnswerLogTable, AnswerLogTable.id, scope.answer_log)):
                    for start in range(0, len(ids), 500):
                        sess.execute(table.__table__.delete().where(
                            column.in_(ids[start:start + 500])))
                for ref in scope.source_files:
                    row = sess.scalars(select(SourceFileTable).where(
                        SourceFileTable.source_id == ref["source"],
                        SourceFileTable.relpath == ref["file"])).first()
                    if row is not None:
                        row.status, row.document_id = "erased", None
                        row.error = ("erased: it stays out until the file changes; remove or "
                                     "change it at its origin")
            indexes.catch_up(keywords=False)  # the rewritten and removed chunks, as on every node
            indexes.vectors.compact()  # HNSW tombstones out of the file too
            indexes.rebuild_keywords()
            indexes.save()

    def _cut_chunks(self, chunk_ids: list[int], needles: tuple[str, ...], embedder) -> None:
        """Cut the sentences that mention the subject out of each chunk and embed what is
        left again; a chunk with nothing left goes. One transaction, recorded in the change
        sequence, so every node's indexes follow."""
        if not chunk_ids:
            return
        plans: dict[int, tuple[str, str | None, int] | None] = {}
        with self.store.session() as sess:
            for row in sess.scalars(select(ChunkTable).where(ChunkTable.id.in_(chunk_ids))):
                kept = cut_mentions(row.text, needles)
                section = None if _mentions(row.section or "", needles) else row.section
                tokens = max(1, row.token_count * len(kept) // max(1, len(row.text)))
                plans[row.id] = None if len(kept.split()) < 3 else (kept, section, tokens)
        ids = sorted(i for i, p in plans.items() if p is not None)
        vectors = embedder.embed([index_text(plans[i][0], plans[i][1]) for i in ids]) \
            if ids else []
        with self.store.session() as sess:
            gone = [i for i, p in plans.items() if p is None]
            if gone:
                sess.execute(ChunkTable.__table__.delete().where(ChunkTable.id.in_(gone)))
            for i, vector in zip(ids, vectors):
                row = sess.get(ChunkTable, i)
                row.text, row.section, row.token_count = plans[i]
                row.embedding = np.asarray(vector, np.float32).tobytes()
            record_changes(sess, ids, gone)

    def _purge_datasets(self, scope: ErasureScope, subject: str | None) -> None:
        if not scope.dataset_examples or subject is None:
            return
        from ..privacy import stored_forms

        needles = [n.casefold() for n in stored_forms(subject, self.policies(), self.secret())]
        for name in scope.dataset_examples:
            folder = self.datasets_root / name
            for part in ("train.jsonl", "eval.jsonl"):
                path = folder / part
                if not path.exists():
                    continue
                keep = [line for line in path.read_text(encoding="utf-8").splitlines()
                        if not any(n in line.casefold() or n in found._unescaped(line)
                                   for n in needles)]
                tmp = path.with_suffix(".tmp")
                tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
                tmp.replace(path)
            manifest = folder / "manifest.json"
            if manifest.exists():
                data = json.loads(manifest.read_text())
                data.setdefault("erasures", []).append(
                    {"at": _now(), "examples_removed": scope.dataset_examples[name]})
                manifest.write_text(json.dumps(data, indent=1))

    def _flag_adapters(self, scope: ErasureScope, target: str, actor: str | None) -> list[int]:
        if not scope.adapters:
            return []
        with self.store.session() as sess:
            for row in sess.scalars(select(AdapterTable).where(
                    AdapterTable.version.in_(scope.adapters))):
                notes = json.loads(row.erased_data or "[]")
                notes.append({"at": _now(), "target_sha256": target,
                              "examples": sum(scope.dataset_examples.values())})
                row.erased_data = json.dumps(notes)
        if not self.settings.erasure_deactivates_adapters:
            return []
        registry = self.adapters()
        active = registry.active()
        if active is not None and active.version in scope.adapters:
            registry.deactivate(actor or "erasure")
            return [active.version]
        return []

    def _reclaim(self) -> None:
        """Rewrite the database so that deleted rows leave no readable page behind."""
        engine = self.store.engine
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("VACUUM"))
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            elif engine.dialect.name == "postgresql":
                conn.execute(text("VACUUM FULL " + ", ".join(RECLAIM_TABLES)))

    def _report(self, plan: Erasure, actor: str | None) -> Path:
        from ..audit import product_version, sign_report

        scope = plan.scope
        body = {
            "created_at": _now(), "actor": actor or "cli",
            "target": {"kind": plan.target_kind, "sha256": plan.target_sha256},
            "removed": scope.counts(),
            "documents": [{"id": d["id"], "version": d["version"], "collection": d["collection"],
                           "name_sha256": _sha(d["name"])} for d in scope.documents],
            "chunk_ids": scope.chunks, "conversation_ids": scope.conversations,
            "feedback_ids": scope.feedback, "answer_log_ids": scope.answer_log,
            "dataset_examples": scope.dataset_examples,
            "adapters_flagged": scope.adapters, "adapters_deactivated": plan.deactivated or [],
            "watched_files_kept_out": [{"source": f["source"], "file_sha256": _sha(f["file"])}
                                       for f in scope.source_files],
            "storage": {"database": f"{self.store.engine.dialect.name}: rewritten (VACUUM)",
                        "vectors": "removed from the FAISS file", "keywords": "index rebuilt"},
            "remaining_mentions": plan.remaining, "appliance_version": product_version(),
        }
        report = sign_report(body, self.signer())
        folder = self.reports_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"erasure-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}.json"
        path.write_text(report, encoding="utf-8")
        if self.audit is not None:
            self.audit.record("data.erase", actor=actor or "cli", target=path.name,
                              details={"target_kind": plan.target_kind,
                                       "target_sha256": plan.target_sha256,
                                       "report_sha256": _sha(report), **scope.counts()})
        return path


SENTENCE_END = re.compile(r"((?<=[.!?])\s+|\n+)")


def _mentions(text: str, needles: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(n.casefold() in folded for n in needles)


def cut_mentions(text: str, needles: tuple[str, ...]) -> str:
    """The text without the sentences (or lines) that mention a needle."""
    parts = SENTENCE_END.split(text)
    out = []
    for i in range(0, len(parts), 2):
        if not _mentions(parts[i], needles):
            out.append(parts[i] + (parts[i + 1] if i + 1 < len(parts) else ""))
    return "".join(out).strip()


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
