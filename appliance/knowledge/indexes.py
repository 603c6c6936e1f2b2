"""The derived search indexes (vectors + keywords) kept consistent with the store.

The store is the source of truth: a commit there is the point of no return. Every writer, on
any node, records the chunks it added or removed in the store's change sequence in the same
transaction; each node's indexes are replicas that tail that sequence (`catch_up`: apply the
changes after the last one applied, idempotently) and remember how far they got in the vector
file. A new node (an empty index) is built from the store's embeddings and texts (a snapshot)
and then tails from where the snapshot began. Writers on a node hold an exclusive file lock;
readers reload when the files change on disk, and catch up before a search when the sequence
moved (one indexed read when it did not).
"""
from __future__ import annotations

import fcntl
import logging
import threading
import time
from contextlib import contextmanager
from itertools import zip_longest
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from sqlalchemy import select

from ..engines import BM25KeywordIndex, FaissVectorStore, recover_keyword_dir
from ..store import (ChunkTable, IndexChangeTable, Store, pruned_through, report_position,
                     sequence_head)
from .chunking import index_text

log = logging.getLogger(__name__)


@dataclass
class ConsistencyReport:
    store_chunks: int
    vector_ids: int
    keyword_ids: int
    missing_vectors: int
    extra_vectors: int
    missing_keywords: int
    extra_keywords: int

    @property
    def ok(self) -> bool:
        return not (self.missing_vectors or self.extra_vectors or
                    self.missing_keywords or self.extra_keywords)


class Indexes:
    """FAISS vectors and BM25 keywords over the store's chunks, in <data_dir>/index/."""

    def __init__(self, directory: Path, store: Store, dim: int, embedder_hash: str,
                 hnsw_threshold: int, threads: int, node_name: str = "",
                 keyword_defer_chunks: int = 20_000):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = store
        self.node_name = node_name or str(self.dir.resolve())
        self._reported = (None, 0.0)  # (applied_seq, monotonic time) last written
        # Above this many chunks, another node's changes reach the keyword index by a
        # rebuild in the background (BM25 has no incremental add: 0.9 s per 10,000 chunks);
        # the vectors take them at once, and hits are read from the store, so a removed
        # chunk never shows meanwhile.
        self.keyword_defer_chunks = keyword_defer_chunks
        self._keyword_job: threading.Thread | None = None
        self._keyword_due = False
        # Meanwhile the chunks added since the last full build are searched by their words
        # in a small index of their own, merged into the keyword results.
        self._recent_ids: set[int] = set()
        self._recent: BM25KeywordIndex | None = None
        self._args = (dim, embedder_hash, hnsw_threshold, threads)
        self._stamp = None
        self._held = threading.local()
        self._io = threading.RLock()  # saving and reloading the files, within this process
        self._load()

    def _load(self) -> None:
        dim, embedder_hash, hnsw_threshold, threads = self._args
        recover_keyword_dir(self.dir / "keyword")
        self.vectors = FaissVectorStore(self.dir / "vectors.faiss", dim, embedder_hash,
                                        hnsw_threshold, threads)
        self.keywords = BM25KeywordIndex(self.dir / "keyword")
        self._stamp = self._disk_stamp()

    def _disk_stamp(self):
        stamps = []
        for path in (self.dir / "vectors.faiss", self.dir / "keyword" / "ids.npy"):
            try:
                st = path.stat()
                stamps.append((st.st_ino, st.st_mtime_ns))
            except FileNotFoundError:
                stamps.append(None)
        return tuple(stamps)

    def refresh_if_changed(self) -> None:
        """Reload when another process (an ingest from the CLI) saved new index files."""
        with self._io:  # not while a thread of this process is writing them
            if self._disk_stamp() == self._stamp:
                return
            try:
                self._load()
            except OSError:  # caught between another process's file swaps: next search
                pass

    @contextmanager
    def write_lock(self, blocking: bool = True) -> Iterator[bool]:
        """Exclusive lock for writers; yields False when non-blocking and already held.

        Re-entrant in the thread that holds it: a source sync holds it while it calls ingest
        and delete, which take it too."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield True
            finally:
                self._held.depth -= 1
            return
        with open(self.dir / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            self._held.depth = 1
            try:
                yield True
            finally:
                self._held.depth = 0
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- writes (call under write_lock) ---------------------------------------------------
    def apply(self, added_ids: list[int], added_vectors: np.ndarray, removed_ids: list[int]) -> None:
        self.vectors.remove(removed_ids)
        if added_ids:
            self.vectors.add(np.asarray(added_ids, dtype=np.int64), added_vectors)

    def rebuild_keywords(self) -> None:
        self.keywords.rebuild(self._keyword_rows())

    def _keyword_rows(self) -> Iterator[tuple[int, str]]:
        with self.store.session() as sess:
            rows = sess.execute(select(ChunkTable.id, ChunkTable.section, ChunkTable.text)
                                .order_by(ChunkTable.id)).all()
        return ((r.id, index_text(r.text, r.section)) for r in rows)

    def save(self) -> None:
        with self._io:
            self.vectors.save()
            self.keywords.save()
            self._stamp = self._disk_stamp()

    def reconcile(self) -> ConsistencyReport:
        """Make the indexes match the store; returns what was found before repairing. An
        empty vector index is built whole (a snapshot) and then tails the change sequence
        from where the snapshot began."""
        head = self.head()
        fresh = len(self.vectors) == 0
        report = self.check()
        if report.ok:
            if fresh and self.vectors.applied_seq < head:
                self.vectors.applied_seq = head
                self.save()
            return report
        store_ids = self._store_ids()
        missing = sorted(store_ids - self.vectors.ids())
        extra = sorted(self.vectors.ids() - store_ids)
        self.vectors.remove(extra)
        self._add_from_store(missing)
        if self.keywords.ids() != store_ids:
            self.rebuild_keywords()
        if fresh:
            self.vectors.applied_seq = max(self.vectors.applied_seq, head)
        self.save()
        return report

    def _add_from_store(self, ids: list[int]) -> None:
        """Add these chunks' stored embeddings (those still in the store) to the vectors."""
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            with self.store.session() as sess:
                rows = sess.execute(select(ChunkTable.id, ChunkTable.embedding)
                                    .where(ChunkTable.id.in_(part))).all()
            if rows:
                vecs = np.vstack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows])
                self.vectors.add(np.asarray([r.id for r in rows], dtype=np.int64), vecs)

    # -- the change sequence ----------------------------------------------------------------
    def head(self) -> int:
        """The last change in the store's sequence (0: none yet)."""
        with self.store.engine.connect() as conn:
            return sequence_head(conn)

    def catch_up(self, keywords: bool = True, limit: int = 200_000) -> int:
        """Apply the changes after the last one applied (call under write_lock; then save).
        Each chunk's last change wins: removed, or (re-)added from its stored embedding."""
        applied = self.vectors.applied_seq
        with self.store.engine.connect() as conn:
            gap = applied < pruned_through(conn)
            rows = [] if gap else conn.execute(
                select(IndexChangeTable.seq, IndexChangeTable.chunk_id, IndexChangeTable.op)
                .where(IndexChangeTable.seq > applied)
                .order_by(IndexChangeTable.seq).limit(limit)).all()
        if gap:
            # Changes this node never applied were pruned (it was away longer than
            # index_changes_keep_days): rebuild from the store, then tail again.
            return self.rebuild_all()
        if not rows:
            return 0
        last = {}
        for row in rows:
            last[row.chunk_id] = row.op
        present = self.vectors.ids()
        self.vectors.remove([c for c in last if c in present])
        self._add_from_store(sorted(c for c, op in last.items() if op == "a"))
        if keywords and self._large():
            self._recent_ids |= {c for c, op in last.items() if op == "a"}
            self._recent_ids -= {c for c, op in last.items() if op == "r"}
            self._index_recent()
            self._rebuild_keywords_soon()
        elif keywords:
            self.rebuild_keywords()
        self.vectors.applied_seq = rows[-1].seq
        return len(rows)

    def _large(self) -> bool:
        return len(self.keywords) >= self.keyword_defer_chunks

    def _rebuild_keywords_soon(self, delay: float = 2.0) -> None:
        """One background rebuild at a time; changes arriving meanwhile ride on the next."""
        self._keyword_due = True
        job = self._keyword_job
        if job is not None and job.is_alive():
            return
        self._keyword_job = threading.Thread(target=self._keyword_rebuilds, args=(delay,),
                                             name="keyword-rebuild", daemon=True)
        self._keyword_job.start()

    def _keyword_rebuilds(self, delay: float) -> None:
        while self._keyword_due:
            time.sleep(delay)  # let a burst of changes land first
            self._keyword_due = False
            try:
                # Built off the lock (seconds at 100,000 chunks): meanwhile this node keeps
                # applying other changes to its vectors; only the swap and save hold it.
                fresh = BM25KeywordIndex(self.dir / "keyword.building")
                fresh.rebuild(self._keyword_rows())
                with self.write_lock():
                    self.refresh_if_changed()
                    self.keywords.take(fresh)
                    self._recent_ids -= fresh.ids()
                    self._index_recent()
                    self.save()  # the vectors too: catch-ups on a large index leave it to us
            except Exception:  # noqa: BLE001 - the next change or `appliance reindex` retries
                log.exception("keyword index rebuild failed")

    def _index_recent(self) -> None:
        """The small keyword index over the chunks the full one does not hold yet."""
        ids = sorted(self._recent_ids)
        if not ids:
            self._recent = None
            return
        with self.store.session() as sess:
            rows = sess.execute(select(ChunkTable.id, ChunkTable.section, ChunkTable.text)
                                .where(ChunkTable.id.in_(ids))).all()
        recent = BM25KeywordIndex(self.dir / "keyword.recent")  # in memory, never saved
        recent.rebuild((r.id, index_text(r.text, r.section)) for r in rows)
        self._recent = recent

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 over the chunks; on a large index whose rebuild is pending, the recent
        chunks' own matches are interleaved with the full index's (their scores come from
        different statistics, so ranks are merged, not scores)."""
        main = self.keywords.search(query, k)
        recent = self._recent
        extra = recent.search(query, k) if recent is not None else []
        if not extra:
            return main
        merged, seen = [], set()
        for pair in (p for couple in zip_longest(main, extra) for p in couple if p):
            if pair[0] not in seen:
                seen.add(pair[0])
                merged.append(pair)
        return merged[:k]

    def wait_for_keywords(self, timeout: float = 120.0) -> None:
        """Block until a deferred keyword rebuild is done (tests, benchmarks, shutdown)."""
        job = self._keyword_job
        if job is not None:
            job.join(timeout)

    def report(self, every: float = 60.0) -> None:
        """Tell the store how far this node got (when it moved, or every minute), for
        `appliance nodes` and for pruning the sequence."""
        seq, when = self._reported
        now = time.monotonic()
        if seq == self.vectors.applied_seq and now - when < every:
            return
        try:
            report_position(self.store, self.node_name, self.vectors.applied_seq)
        except Exception:  # noqa: BLE001 - a read-only moment of the store: next time
            return
        self._reported = (self.vectors.applied_seq, now)

    def follow(self) -> None:
        """Catch up with changes other processes or nodes committed, before a search."""
        head = self.head()
        if head <= self.vectors.applied_seq:
            self.report()
            return
        with self.write_lock(blocking=False) as got:
            if not got:  # a writer on this node holds it: it saves, and we reload then
                return
            self.refresh_if_changed()
            if head > self.vectors.applied_seq:
                self.catch_up()
                if not self._large():
                    self.save()
                # else: the background keyword rebuild that catch_up scheduled saves both
                # (writing a large HNSW file costs about a second; if the process dies
                # first, the next start reloads the saved files and applies the rest again)
        self.report()

    def rebuild_all(self) -> int:
        """Drop both indexes and rebuild them from the store's embeddings and texts."""
        self.vectors.reset()
        self.keywords.rebuild([])
        self.reconcile()
        return len(self.vectors)

    # -- reads ----------------------------------------------------------------------------
    def _store_ids(self) -> set[int]:
        with self.store.session() as sess:
            return set(sess.scalars(select(ChunkTable.id)).all())

    def check(self) -> ConsistencyReport:
        store_ids = self._store_ids()
        vec = self.vectors.ids()
        kw = self.keywords.ids()
        return ConsistencyReport(len(store_ids), len(vec), len(kw),
                                 len(store_ids - vec), len(vec - store_ids),
                                 len(store_ids - kw), len(kw - store_ids))


