"""Hybrid retrieval: dense (FAISS) and keyword (BM25) candidates fused by reciprocal rank,
filtered to the collections the caller may read."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import bindparam, select

from ..settings import Settings
from ..store import ChunkTable, DocumentTable, Store
from .indexes import Indexes

WIDEN = 8  # candidate pool growth when the collection filter leaves too few hits

# Built once: constructing a SQLAlchemy statement per search costs more than running it.
_ROWS = (select(ChunkTable.id, ChunkTable.document_id, ChunkTable.page, ChunkTable.section,
                ChunkTable.text, ChunkTable.document_version, DocumentTable.name,
                DocumentTable.collection, DocumentTable.updated_at)
         .join(DocumentTable, DocumentTable.id == ChunkTable.document_id)
         .where(ChunkTable.id.in_(bindparam("ids", expanding=True))))
_ROWS_IN = _ROWS.where(DocumentTable.collection.in_(bindparam("allowed", expanding=True)))


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    doc_id: int
    doc_name: str
    doc_version: int
    collection: str
    page: int | None
    section: str | None
    text: str
    score: float
    doc_updated: datetime | None = None  # when this version was ingested


@dataclass
class SearchResult:
    hits: list[Hit]
    timings_ms: dict[str, float] = field(default_factory=dict)


def rrf(rankings: Iterable[tuple[list[int], float]], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion of ranked id lists."""
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return scores


class HybridRetriever:
    """Finds the chunks that best answer a query, among collections the caller may read."""

    def __init__(self, settings: Settings, store: Store, embedder: Any, indexes: Indexes):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.indexes = indexes
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25")

    def search(self, query: str, k: int | None = None, collections: Iterable[str] | None = None,
               candidates: int | None = None) -> SearchResult:
        """Top-k chunks; `collections=None` means all, an empty set means none.

        The collection filter applies to the fused candidates; when it leaves fewer than k (a
        team's small collection in a large shared index), the search widens its candidate
        pool until k are found or the whole index was considered."""
        k = k or self.settings.retrieval_k
        n = max(candidates or self.settings.retrieval_candidates, k)
        allowed = None if collections is None else set(collections)
        t0 = time.perf_counter()
        self.indexes.refresh_if_changed()
        self.indexes.follow()  # what other processes and nodes committed since
        if allowed is not None and not allowed:
            return SearchResult([], {"total": 0.0})
        result, vector = self._search(query, k, n, allowed, t0)
        total = len(self.indexes.vectors)
        while allowed is not None and len(result.hits) < k and n < total:
            n = min(n * WIDEN, total)
            result, _ = self._search(query, k, n, allowed, time.perf_counter(), vector)
            result.timings_ms["widened_to"] = n
        return result

    def _search(self, query: str, k: int, n: int, allowed: set[str] | None, t0: float,
                vector: Any = None) -> tuple[SearchResult, Any]:
        fusion = self.settings.fusion
        # Keyword search runs while the embedder (which releases the GIL) encodes the query.
        kw_future = self._pool.submit(self.indexes.keyword_search, query, n) \
            if fusion != "dense" else None
        dense: list[tuple[int, float]] = []
        t_embed = t_dense = t0
        if fusion != "keyword":
            if vector is None:
                vector = self.embedder.embed_query(query)
            t_embed = time.perf_counter()
            dense = self.indexes.vectors.search(vector, n)
            t_dense = time.perf_counter()
        keyword = kw_future.result() if kw_future else []
        t_kw = time.perf_counter()
        if fusion == "rrf":
            fused = rrf([([i for i, _ in dense], self.settings.dense_weight),
                         ([i for i, _ in keyword], self.settings.keyword_weight)],
                        self.settings.rrf_k)
        else:
            fused = dict(dense or keyword)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        hits = self._hydrate(ranked, k, allowed)
        t_end = time.perf_counter()
        ms = lambda a, b: round((b - a) * 1000, 3)  # noqa: E731
        return SearchResult(hits, {"embed": ms(t0, t_embed), "dense": ms(t_embed, t_dense),
                                   "keyword_wait": ms(t_dense, t_kw), "hydrate": ms(t_kw, t_end),
                                   "total": ms(t0, t_end)}), vector

    def _hydrate(self, ranked: list[tuple[int, float]], k: int,
                 allowed: set[str] | None) -> list[Hit]:
        """Load chunk rows for the ranked ids, dropping unreadable collections, until k."""
        hits: list[Hit] = []
        start, step = 0, max(k * 2, 8)
        while start < len(ranked):
            part = ranked[start:start + step]
            start, step = start + step, min(step * 4, 900)  # filtered searches walk far down
            params = {"ids": [chunk_id for chunk_id, _ in part]}
            if allowed is not None:
                params["allowed"] = sorted(allowed)
            with self.store.engine.connect() as conn:  # a read: no ORM session needed
                rows = {r.id: r for r in conn.execute(_ROWS if allowed is None else _ROWS_IN,
                                                      params)}
            for chunk_id, score in part:
                r = rows.get(chunk_id)
                if r is not None:
                    hits.append(Hit(r.id, r.document_id, r.name, r.document_version,
                                    r.collection, r.page, r.section, r.text, score,
                                    r.updated_at))
                    if len(hits) >= k:
                        return hits
        return hits
