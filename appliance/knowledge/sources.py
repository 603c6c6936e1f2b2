"""SourceService: watched folders a collection mirrors: add, change, list, sync, remove.

A source is a local or mounted folder (NFS and SMB mounts are paths). Its state lives in the
store (sources, source_files), so a restart or another process resumes where the last sync
ended; every sync holds the index write lock, so there is one writer at a time.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import func, select

from ..accounts import check_name
from ..errors import InvalidRequest, NotFoundError
from ..settings import Settings
from ..store import SourceFileTable, SourceTable, Store
from .source_sync import SourceSync, SyncReport


@dataclass(frozen=True)
class SourceInfo:
    id: int
    path: str
    collection: str
    include: list[str]
    exclude: list[str]
    files: int
    indexed: int
    errors: list[tuple[str, str]]  # (file, reason) of files that could not be ingested
    last_sync_at: float | None
    last_ok_at: float | None
    last_error: str | None
    last_counts: dict[str, int]
    pending: int
    pending_since: float | None

    @property
    def error_count(self) -> int:
        """Files seen but not indexed (failed, duplicates, removed in the appliance)."""
        return self.files - self.indexed

    def staleness(self, now: float | None = None) -> float | None:
        """Seconds since the last successful sync (None: never synced)."""
        return None if self.last_ok_at is None else (now or time.time()) - self.last_ok_at

    def to_json(self) -> dict:
        return {**self.__dict__, "errors": [{"file": f, "reason": r} for f, r in self.errors]}


class SourceService:
    """The watched sources of this data dir."""

    def __init__(self, settings: Settings, store: Store, ingest_factory: Callable[[], Any],
                 audit: Any = None):
        self.settings, self.store, self.audit = settings, store, audit
        self.ingest_factory = ingest_factory

    # -- the registry -----------------------------------------------------------------------
    def add(self, path: str | Path, collection: str | None = None,
            include: list[str] | None = None, exclude: list[str] | None = None,
            actor: str | None = None) -> SourceInfo:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise NotFoundError(f"{root} is not a folder")
        root = root.resolve()
        data = self.settings.data_dir.resolve()
        if root == data or data in root.parents or root in data.parents:
            raise InvalidRequest(f"{root} overlaps the data dir {data}: a source must not hold "
                                 "the appliance's own files")
        collection = check_name("collection", collection or self.settings.default_collection)
        with self.store.session() as sess:
            for other in sess.scalars(select(SourceTable)):
                mine, theirs = root, Path(other.path)
                if mine == theirs or theirs in mine.parents or mine in theirs.parents:
                    raise InvalidRequest(f"{root} overlaps source {other.id} ({other.path}): "
                                         "a file may belong to one source only")
            row = SourceTable(path=str(root), collection=collection,
                              include=json.dumps(_globs(include)),
                              exclude=json.dumps(_globs(exclude)), created_at=time.time(),
                              last_counts="{}", pending=0)
            sess.add(row)
            sess.flush()
            source_id = row.id
        self._record("source.add", actor, source_id, {"source": source_id, "path": str(root),
                                                        "collection": collection,
                                                        "include": _globs(include),
                                                        "exclude": _globs(exclude)})
        return self.get(source_id)

    def change(self, source_id: int, include: list[str] | None = None,
               exclude: list[str] | None = None, actor: str | None = None) -> SourceInfo:
        """New include/exclude globs; the next sync removes what they now leave out."""
        with self.store.session() as sess:
            row = self._source(sess, source_id)
            if include is not None:
                row.include = json.dumps(_globs(include))
            if exclude is not None:
                row.exclude = json.dumps(_globs(exclude))
            details = {"source": source_id, "include": json.loads(row.include),
                       "exclude": json.loads(row.exclude)}
        self._record("source.change", actor, source_id, details)
        return self.get(source_id)

    def remove(self, source_id: int, keep_documents: bool = False,
               actor: str | None = None) -> int:
        """Forget a source; its documents go too unless kept (then they stay as uploads).
        Returns how many documents were removed."""
        ingest = self.ingest_factory()
        with ingest.indexes.write_lock():
            with self.store.session() as sess:
                row = self._source(sess, source_id)
                docs = [d for d in sess.scalars(select(SourceFileTable.document_id).where(
                    SourceFileTable.source_id == source_id)) if d is not None]
                path, collection = row.path, row.collection
            removed = [] if keep_documents else ingest.delete_many(docs, actor,
                                                                     f"source:{source_id}")
            with self.store.session() as sess:
                sess.execute(SourceFileTable.__table__.delete().where(
                    SourceFileTable.source_id == source_id))
                sess.delete(self._source(sess, source_id))
        self._record("source.remove", actor, source_id,
                     {"source": source_id, "path": path, "collection": collection,
                      "documents_removed": len(removed), "documents_kept":
                      len(docs) if keep_documents else 0})
        return len(removed)

    def list(self, replica: bool = False) -> list[SourceInfo]:
        """Every source; `replica`: read from the streaming standby (the metrics gauges)."""
        with self._reading(replica) as sess:
            ids = list(sess.scalars(select(SourceTable.id).order_by(SourceTable.id)))
        return [self.get(i, replica) for i in ids]

    def _reading(self, replica: bool):
        return self.store.read_session() if replica else self.store.session()

    def get(self, source_id: int, replica: bool = False) -> SourceInfo:
        with self._reading(replica) as sess:
            row = self._source(sess, source_id)
            counts = dict(sess.execute(
                select(SourceFileTable.status, func.count()).where(
                    SourceFileTable.source_id == source_id).group_by(SourceFileTable.status))
                .all())
            errors = [(r.relpath, r.error or r.status) for r in sess.scalars(
                select(SourceFileTable).where(SourceFileTable.source_id == source_id,
                                              SourceFileTable.status != "indexed")
                .order_by(SourceFileTable.relpath).limit(200))]
            return SourceInfo(row.id, row.path, row.collection, json.loads(row.include),
                              json.loads(row.exclude), sum(counts.values()),
                              counts.get("indexed", 0), errors, row.last_sync_at,
                              row.last_ok_at, row.last_error, json.loads(row.last_counts or "{}"),
                              row.pending, row.pending_since)

    # -- syncing ----------------------------------------------------------------------------
    def sync(self, source_ids: list[int] | None = None, actor: str | None = None,
             progress: bool = False, dry_run: bool = False) -> list[SyncReport]:
        """Bring the chosen sources (default: all) in line with their folders, as one writer."""
        ingest = self.ingest_factory()
        with ingest.indexes.write_lock():
            with self.store.session() as sess:
                stmt = select(SourceTable).order_by(SourceTable.id)
                if source_ids is not None:
                    for i in source_ids:
                        self._source(sess, i)
                    stmt = stmt.where(SourceTable.id.in_(source_ids))
                sources = list(sess.scalars(stmt))
                sess.expunge_all()
            runner = SourceSync(self.store, ingest, self.audit, self.settings.max_file_bytes)
            return [r for r, _ in runner.run(sources, actor or "sources", progress, dry_run)]

    def mark_pending(self, counts: dict[int, int]) -> None:
        """The watcher saw changes under these sources (paths changed, not yet synced)."""
        now = time.time()
        with self.store.session() as sess:
            for source_id, n in counts.items():
                row = sess.get(SourceTable, source_id)
                if row is not None:
                    row.pending = n
                    row.pending_since = row.pending_since or now

    def owner(self, path: str | Path) -> int | None:
        """The source a filesystem path lies in, if any."""
        target = Path(path)
        for info in self.list():
            root = Path(info.path)
            if target == root or root in target.parents:
                return info.id
        return None

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _source(sess, source_id: int) -> SourceTable:
        row = sess.get(SourceTable, source_id)
        if row is None:
            raise NotFoundError(f"no source with id {source_id} (see `appliance sources list`)")
        return row

    def _record(self, event: str, actor: str | None, source_id: int, details: dict) -> None:
        if self.audit is not None:
            self.audit.record(event, actor=actor or "cli", target=f"source:{source_id}",
                              details=details)


def _globs(globs: list[str] | None) -> list[str]:
    out = []
    for g in globs or []:
        g = g.strip()
        if not g or "\x00" in g or len(g) > 256:
            raise InvalidRequest(f"not a usable glob: {g!r}")
        out.append(g)
    return out
