"""One sync of watched sources: plan every source, then apply the plans under the index lock.

new → ingested; changed → a new version (the old version's chunks leave the index); deleted or
now excluded → the document removed; renamed → the same document under its new name; moved to
another source of the same collection → the same document, now that source's. Only documents a
source created are ever changed or removed by it: uploads and other sources' files are not.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import select

from ..store import DocumentTable, SourceFileTable, SourceTable
from .source_scan import FileChange, Known, Plan, Rules, plan


@dataclass
class SyncReport:
    source_id: int
    path: str
    collection: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    renamed: int = 0
    moved: int = 0
    failed: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    state_sha256: str = ""
    seconds: float = 0.0
    error: str | None = None  # the whole source could not be read

    @property
    def changes(self) -> int:
        return self.added + self.updated + self.removed + self.renamed + self.moved

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("added", "updated", "removed", "renamed",
                                               "moved", "failed", "unchanged")}


def known_files(sess, source_id: int) -> list[Known]:
    rows = sess.scalars(select(SourceFileTable).where(SourceFileTable.source_id == source_id))
    return [Known(r.id, r.relpath, r.size, r.mtime_ns, r.sha256, r.document_id, r.status)
            for r in rows]


def rules_of(src: SourceTable) -> Rules:
    return Rules(tuple(json.loads(src.include or "[]")), tuple(json.loads(src.exclude or "[]")))


class SourceSync:
    """Applies plans; the caller holds the index write lock."""

    def __init__(self, store: Any, ingest: Any, audit: Any, max_bytes: int):
        self.store, self.ingest, self.audit, self.max_bytes = store, ingest, audit, max_bytes

    def run(self, sources: list[SourceTable], actor: str | None,
            progress: bool = False, dry_run: bool = False) -> list[tuple[SyncReport, Plan]]:
        plans: list[tuple[SourceTable, Plan | None, SyncReport]] = []
        for src in sources:
            report = SyncReport(src.id, src.path, src.collection)
            root = Path(src.path)
            if not root.is_dir():
                report.error = f"{src.path} is not a readable folder (unmounted or removed?)"
                plans.append((src, None, report))
                continue
            with self.store.session() as sess:
                known = known_files(sess, src.id)
            plans.append((src, plan(root, rules_of(src), known, self.max_bytes), report))
        self._match_moves(plans)
        out = []
        for src, p, report in plans:
            started = time.monotonic()
            if p is not None and not dry_run:
                self._apply(src, p, report, actor, progress)
            elif p is not None:
                report.added, report.updated = len(p.new), len(p.changed)
                report.removed, report.renamed = len(p.gone), len(p.renamed)
                report.unchanged = p.unchanged + len(p.touched)
            report.seconds = round(time.monotonic() - started, 3)
            if not dry_run:
                self._finish(src, report, actor)
            out.append((report, p))
        return out

    # -- planning across sources -----------------------------------------------------------
    @staticmethod
    def _match_moves(plans) -> None:
        """A file gone from one source and new in another of the same collection, with the
        same content, moved: the document follows it instead of being removed and re-added."""
        gone: dict[tuple[str, str], list[tuple[Plan, Known]]] = {}
        for src, p, _ in plans:
            for k in (p.gone if p else []):
                if k.document_id is not None:
                    gone.setdefault((src.collection, k.sha256), []).append((p, k))
        for src, p, _ in plans:
            for change in list(p.new if p else []):
                twins = gone.get((src.collection, change.sha256))
                if not twins:
                    continue
                other, k = twins.pop()
                if other is p:
                    continue
                other.gone.remove(k)
                p.new.remove(change)
                change.known = k
                p.renamed.append(change)

    # -- applying ---------------------------------------------------------------------------
    def _apply(self, src: SourceTable, p: Plan, report: SyncReport, actor: str | None,
               progress: bool) -> None:
        report.unchanged = p.unchanged + len(p.touched)
        now = time.time()
        with self.store.session() as sess:
            for change in p.touched:
                row = sess.get(SourceFileTable, change.known.id)
                row.size, row.mtime_ns, row.synced_at = change.stat.size, change.stat.mtime_ns, now
            for rel, reason in p.unreadable.items():
                self._failed(sess, src.id, rel, None, reason, now)
                report.errors.append((rel, reason))
        self._renames(src, p, report, actor)
        doomed = [k.document_id for k in p.gone if k.document_id is not None]
        if doomed:
            self.ingest.delete_many(doomed, actor, reason=f"source:{src.id}")
        with self.store.session() as sess:
            for k in p.gone:
                row = sess.get(SourceFileTable, k.id)
                if row is not None:
                    sess.delete(row)
        report.removed = len(p.gone)
        self._ingest(src, p.new + p.changed, report, actor, progress)
        report.failed = len(report.errors)

    def _renames(self, src, p: Plan, report: SyncReport, actor: str | None) -> None:
        for change in p.renamed:
            k = change.known
            with self.store.session() as sess:
                row = sess.get(SourceFileTable, k.id)
                doc = sess.get(DocumentTable, k.document_id) if k.document_id else None
                clash = self._clash(sess, src, change.relpath, doc.id if doc else None)
                if doc is None or clash:
                    p.new.append(FileChange(change.relpath, change.stat, change.sha256))
                    if doc is not None:
                        p.gone.append(k)
                    continue
                moved = row.source_id != src.id
                old_name = doc.name
                doc.name = change.relpath
                row.source_id, row.relpath = src.id, change.relpath
                row.size, row.mtime_ns, row.synced_at = (change.stat.size, change.stat.mtime_ns,
                                                         time.time())
            if moved:
                report.moved += 1
            else:
                report.renamed += 1
            if self.audit is not None:
                self.audit.record("document.rename", actor=actor, target=f"doc:{k.document_id}",
                                  details={"name": change.relpath, "previous_name": old_name,
                                           "source": src.id, "moved": moved})

    def _ingest(self, src, changes: list[FileChange], report: SyncReport, actor: str | None,
                progress: bool) -> None:
        if not changes:
            return
        root = Path(src.path)
        allowed: list[FileChange] = []
        now = time.time()
        with self.store.session() as sess:
            for change in changes:
                own = change.known.document_id if change.known else None
                if self._clash(sess, src, change.relpath, own):
                    reason = (f"a document named {change.relpath!r} is already in collection "
                              f"{src.collection!r} (uploaded, or from another source)")
                    self._failed(sess, src.id, change.relpath, change, reason, now)
                    report.errors.append((change.relpath, reason))
                else:
                    allowed.append(change)
        read: dict[str, tuple[str, int, int]] = {}

        def items() -> Iterator[tuple[str, bytes | Path]]:
            for change in allowed:
                path = root / change.relpath
                try:
                    st = path.stat()
                    if st.st_size > self.max_bytes:  # ingest refuses it with its size error
                        read[change.relpath] = (change.sha256, st.st_size, st.st_mtime_ns)
                        yield change.relpath, path
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue  # gone since the plan: the next sync removes it
                read[change.relpath] = (hashlib.sha256(data).hexdigest(), st.st_size,
                                        st.st_mtime_ns)
                yield change.relpath, data

        outcome = self.ingest.ingest_files(items(), len(allowed), src.collection, progress, actor)
        by_name = {f.name: f for f in outcome.files}
        now = time.time()
        with self.store.session() as sess:
            for change in allowed:
                f = by_name.get(change.relpath)
                if f is None or change.relpath not in read:
                    continue
                sha, size, mtime = read[change.relpath]
                row = self._row(sess, src.id, change.relpath)
                row.sha256, row.size, row.mtime_ns, row.synced_at = sha, size, mtime, now
                if f.status in ("added", "updated", "unchanged"):
                    row.status, row.error, row.document_id = "indexed", None, f.doc_id
                    if f.status == "added" and change.known is None:
                        report.added += 1
                    elif f.status != "unchanged":
                        report.updated += 1
                elif f.status == "duplicate":
                    row.status, row.error, row.document_id = "duplicate", f.error, None
                    if change.known and change.known.document_id:  # its old version goes
                        self.ingest.delete_many([change.known.document_id], actor,
                                                reason=f"source:{src.id}")
                else:
                    row.status, row.error = "failed", f.error
                    report.errors.append((change.relpath, f.error or "failed"))

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _clash(sess, src, name: str, own_doc: int | None) -> bool:
        doc = sess.scalars(select(DocumentTable).where(
            DocumentTable.collection == src.collection, DocumentTable.name == name)).first()
        if doc is None or doc.id == own_doc:
            return False
        owner = sess.scalars(select(SourceFileTable.source_id).where(
            SourceFileTable.document_id == doc.id)).first()
        return owner != src.id

    @staticmethod
    def _row(sess, source_id: int, relpath: str) -> SourceFileTable:
        row = sess.scalars(select(SourceFileTable).where(
            SourceFileTable.source_id == source_id, SourceFileTable.relpath == relpath)).first()
        if row is None:
            row = SourceFileTable(source_id=source_id, relpath=relpath, size=0, mtime_ns=0,
                                  sha256="", status="failed", synced_at=time.time())
            sess.add(row)
        return row

    def _failed(self, sess, source_id: int, relpath: str, change: FileChange | None,
                reason: str, now: float) -> None:
        row = self._row(sess, source_id, relpath)
        if change is not None:
            row.size, row.mtime_ns, row.sha256 = (change.stat.size, change.stat.mtime_ns,
                                                  change.sha256)
        row.status, row.error, row.synced_at = "failed", reason, now

    def _finish(self, src: SourceTable, report: SyncReport, actor: str | None) -> None:
        now = time.time()
        with self.store.session() as sess:
            rows = sess.execute(select(SourceFileTable.relpath, SourceFileTable.sha256).where(
                SourceFileTable.source_id == src.id, SourceFileTable.status == "indexed")
                .order_by(SourceFileTable.relpath)).all()
            report.state_sha256 = hashlib.sha256("".join(
                f"{r.relpath}\t{r.sha256}\n" for r in rows).encode()).hexdigest()
            row = sess.get(SourceTable, src.id)
            if row is None:
                return  # removed while syncing
            row.last_sync_at = now
            row.last_error = report.error
            if report.error is None:
                row.last_ok_at = now
                row.pending, row.pending_since = 0, None
            row.last_counts = json.dumps(report.counts())
        if self.audit is not None:
            self.audit.record("source.sync", actor=actor, target=f"source:{src.id}",
                              outcome="failure" if report.error else "success",
                              details={"source": src.id, "collection": src.collection,
                                       **report.counts(), "files": len(rows),
                                       "state_sha256": report.state_sha256,
                                       "seconds": report.seconds})
