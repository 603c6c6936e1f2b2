"""IngestService: file → extract → chunk → redact → embed → store + indexes → audit event."""
from __future__ import annotations

import hashlib
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import select
from tqdm import tqdm

from ..errors import IngestError, NotFoundError, OversizeFileError
from ..settings import Settings
from ..store import ChunkTable, DocumentTable, IngestJobTable, Store, record_changes, utcnow
from .chunking import Chunk, chunk_blocks, index_text
from .extraction import Block, mime_type_for, printable, walk
from .file_checks import Limits
from .sandbox import sandbox_for
from .indexes import Indexes

GROUP_CHUNKS = 128  # chunks embedded per batch; files in a group commit in one transaction


@dataclass
class FileOutcome:
    name: str
    status: str  # added | updated | unchanged | duplicate | failed
    doc_id: int | None = None
    version: int | None = None
    chunks: int = 0
    error: str | None = None
    error_kind: str | None = None  # the IngestError's class name when failed


@dataclass
class IngestReport:
    job_id: int
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def chunks_added(self) -> int:
        return sum(f.chunks for f in self.files if f.status in ("added", "updated"))


@dataclass
class _Prepared:
    name: str
    data_sha: str
    size: int
    mime: str
    chunks: list[Chunk]
    redactions: Counter


class IngestService:
    """Adds, versions and deletes documents; the store commit is the point of no return."""

    def __init__(self, settings: Settings, store: Store, embedder: Any, indexes: Indexes,
                 redactor_for: Callable[[str], Any] | None = None, audit: Any = None):
        """`redactor_for(collection)` gives the PII redactor of that collection's policy."""
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.indexes = indexes
        self.redactor_for = redactor_for
        self.audit = audit
        self.limits = Limits.from_settings(settings)

    # -- public -------------------------------------------------------------------------
    def ingest_paths(self, paths: Iterable[str | Path], collection: str | None = None,
                     progress: bool = True, actor: str | None = None) -> IngestReport:
        files = walk(paths)
        return self.ingest_files(((n, p) for p, n in files), len(files), collection,
                                 progress, actor)

    def ingest_bytes(self, name: str, data: bytes, collection: str | None = None,
                     actor: str | None = None) -> FileOutcome:
        report = self.ingest_files([(name, data)], 1, collection, False, actor)
        return report.files[0]

    def ingest_files(self, items: Iterable[tuple[str, Path | bytes]], total: int,
                     collection: str | None, progress: bool, actor: str | None) -> IngestReport:
        collection = collection or self.settings.default_collection
        with self.indexes.write_lock():
            self.indexes.refresh_if_changed()
            self.indexes.reconcile()
            job_id = self._start_job(collection, total)
            report = IngestReport(job_id)
            bar = tqdm(total=total, unit="file", desc="ingest", disable=not progress,
                       file=sys.stderr)
            group: list[_Prepared] = []
            seen: dict[str, str] = {}  # sha256 -> name, for files that repeat within this run
            for name, source in items:
                outcome, prepared = self._prepare(printable(name), source, collection)
                if prepared is not None and prepared.data_sha in seen:
                    outcome, prepared = self._repeat(prepared, seen[prepared.data_sha]), None
                if prepared is None:
                    if outcome.status == "failed":
                        self._record("document.ingest", actor, outcome.name,
                                     {"error": outcome.error}, "failure")
                    report.files.append(outcome)
                    bar.update(1)
                    continue
                seen[prepared.data_sha] = prepared.name
                group.append(prepared)
                if sum(len(p.chunks) for p in group) >= GROUP_CHUNKS:
                    report.files.extend(self._commit_group(group, collection, actor))
                    bar.update(len(group))
                    group = []
                bar.set_postfix(chunks=report.chunks_added, refresh=False)
            if group:
                report.files.extend(self._commit_group(group, collection, actor))
                bar.update(len(group))
            bar.close()
            if any(f.status in ("added", "updated") for f in report.files):
                self.indexes.rebuild_keywords()
                self.indexes.save()
            self._finish_job(report)
        return report

    def delete(self, doc_id: int, actor: str | None = None) -> str:
        names = self.delete_many([doc_id], actor)
        if not names:
            raise NotFoundError(f"no document with id {doc_id}")
        return names[0]

    def delete_many(self, doc_ids: Iterable[int], actor: str | None = None,
                    reason: str | None = None) -> list[str]:
        """Delete documents and their chunks (the vectors physically, the keyword index
        rebuilt once); the names of those that existed."""
        removed: list[tuple[int, str, int, int]] = []
        with self.indexes.write_lock():
            self.indexes.refresh_if_changed()
            chunk_ids: list[int] = []
            with self.store.session() as sess:
                for doc_id in doc_ids:
                    doc = sess.get(DocumentTable, doc_id)
                    if doc is None:
                        continue
                    ids = list(sess.scalars(select(ChunkTable.id)
                                            .where(ChunkTable.document_id == doc_id)))
                    chunk_ids.extend(ids)
                    removed.append((doc_id, doc.name, doc.version, len(ids)))
                    sess.delete(doc)
                record_changes(sess, [], chunk_ids)
            if removed:
                self.indexes.catch_up()
                self.indexes.save()
        for doc_id, name, version, chunks in removed:
            details = {"name": name, "version": version, "chunks": chunks}
            if reason:
                details["reason"] = reason
            self._record("document.delete", actor, f"doc:{doc_id}", details)
        return [name for _, name, _, _ in removed]

    # -- steps --------------------------------------------------------------------------
    @staticmethod
    def _repeat(prep: _Prepared, first: str) -> FileOutcome:
        if prep.name == first:
            return FileOutcome(prep.name, "unchanged")
        return FileOutcome(prep.name, "duplicate", error=f"identical to {first} (in this run)")

    def _prepare(self, name: str, source: Path | bytes,
                 collection: str) -> tuple[FileOutcome, _Prepared | None]:
        try:
            mime = mime_type_for(Path(name))
            size = source.stat().st_size if isinstance(source, Path) else len(source)
            if size > self.settings.max_file_bytes:
                raise OversizeFileError(f"{name}: {size} bytes is over the limit of "
                                        f"{self.settings.max_file_bytes} (max_file_bytes)")
            data = source.read_bytes() if isinstance(source, Path) else source
            sha = hashlib.sha256(data).hexdigest()
            existing = self._find(collection, name, sha)
            if existing is not None:
                return existing, None
            blocks = sandbox_for(self.limits).extract(name, data)  # in a child process
            blocks, redactions = self._redact(blocks, name, collection)
            chunks = chunk_blocks(blocks, self._offsets, self.settings.chunk_size,
                                  self.settings.chunk_overlap)
            return FileOutcome(name, "pending"), _Prepared(name, sha, size, mime, chunks,
                                                           redactions)
        except IngestError as exc:
            return FileOutcome(name, "failed", error=str(exc),
                               error_kind=type(exc).__name__), None
        except OSError as exc:
            return FileOutcome(name, "failed", error=f"{name}: cannot read ({exc})"), None

    def _find(self, collection: str, name: str, sha: str) -> FileOutcome | None:
        with self.store.session() as sess:
            same = sess.scalars(select(DocumentTable).where(
                DocumentTable.collection == collection, DocumentTable.sha256 == sha)).first()
        if same is None:
            return None
        status = "unchanged" if same.name == name else "duplicate"
        outcome = FileOutcome(name, status, same.id, same.version)
        if status == "duplicate":
            outcome.error = f"identical to {same.name} (id {same.id})"
        return outcome

    def _redact(self, blocks: list[Block], name: str,
                collection: str) -> tuple[list[Block], Counter]:
        counts: Counter = Counter()
        if self.redactor_for is None:
            return blocks, counts
        redactor = self.redactor_for(collection)
        results = redactor.redact_many([b.text for b in blocks], "ingest", scope=name)
        out = []
        for block, result in zip(blocks, results):
            counts.update(result.counts)
            out.append(Block(result.text, block.page, block.section))
        return out, counts

    def _offsets(self, texts):
        return self.embedder.tokenize_offsets(texts)

    def _commit_group(self, group: list[_Prepared], collection: str,
                      actor: str | None) -> list[FileOutcome]:
        texts = [index_text(c.text, c.section) for p in group for c in p.chunks]
        vectors = self.embedder.embed(texts)
        outcomes = []
        with self.store.session() as sess:
            row = 0
            for prep in group:
                doc, old_ids = self._upsert(sess, prep, collection)
                rows = []
                for ordinal, chunk in enumerate(prep.chunks):
                    rows.append(ChunkTable(document_id=doc.id, document_version=doc.version,
                                           ordinal=ordinal, text=chunk.text, page=chunk.page,
                                           section=chunk.section, token_count=chunk.token_count,
                                           embedding=vectors[row].tobytes()))
                    row += 1
                sess.add_all(rows)
                sess.flush()
                record_changes(sess, [r.id for r in rows], old_ids)
                status = "updated" if old_ids or doc.version > 1 else "added"
                outcomes.append(FileOutcome(prep.name, status, doc.id, doc.version,
                                            len(rows)))
        self.indexes.catch_up(keywords=False)  # the keyword index is rebuilt once per run
        for prep, outcome in zip(group, outcomes):
            event = "document.version" if outcome.status == "updated" else "document.ingest"
            self._record(event, actor, f"doc:{outcome.doc_id}",
                         {"name": prep.name, "version": outcome.version, "sha256": prep.data_sha,
                          "chunks": outcome.chunks, "collection": collection,
                          "redactions": dict(prep.redactions)})
        return outcomes

    def _upsert(self, sess, prep: _Prepared, collection: str) -> tuple[DocumentTable, list[int]]:
        doc = sess.scalars(select(DocumentTable).where(
            DocumentTable.collection == collection, DocumentTable.name == prep.name)).first()
        old_ids: list[int] = []
        if doc is None:
            doc = DocumentTable(name=prep.name, collection=collection, sha256=prep.data_sha,
                                version=1, mime_type=prep.mime, size_bytes=prep.size)
            sess.add(doc)
            sess.flush()
        else:
            old_ids = list(sess.scalars(select(ChunkTable.id)
                                        .where(ChunkTable.document_id == doc.id)))
            sess.execute(ChunkTable.__table__.delete().where(ChunkTable.document_id == doc.id))
            doc.version += 1
            doc.sha256 = prep.data_sha
            doc.mime_type = prep.mime
            doc.size_bytes = prep.size
            doc.updated_at = utcnow()
        return doc, old_ids

    # -- jobs and audit -----------------------------------------------------------------
    def _start_job(self, collection: str, total: int) -> int:
        with self.store.session() as sess:
            for job in sess.scalars(select(IngestJobTable)
                                    .where(IngestJobTable.status == "running")):
                job.status = "interrupted"  # we hold the writer lock: its process is gone
            job = IngestJobTable(collection=collection, files_total=total, status="running",
                                 files_done=0, files_failed=0, chunks_added=0)
            sess.add(job)
            sess.flush()
            return job.id

    def _finish_job(self, report: IngestReport) -> None:
        with self.store.session() as sess:
            job = sess.get(IngestJobTable, report.job_id)
            job.files_done = sum(1 for f in report.files if f.status != "failed")
            job.files_failed = len(report.failed)
            job.chunks_added = report.chunks_added
            job.status = "done" if not report.failed else "done_with_errors"
            job.error = "; ".join(f.error or "" for f in report.failed)[:4000] or None
            job.finished_at = utcnow()

    def _record(self, event: str, actor: str | None, target: str, details: dict,
                outcome: str = "success") -> None:
        if self.audit is not None:
            self.audit.record(event, actor=actor, target=target, outcome=outcome,
                              details=details)
