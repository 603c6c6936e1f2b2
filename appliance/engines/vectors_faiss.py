"""FAISS vector store: ids are chunk ids, flat when small and HNSW when large, saved atomically.

HNSW cannot remove vectors, so removals there become tombstones filtered at search time; the
index is rebuilt without them once they exceed a quarter of it.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import ConsistencyError

MAGIC = b"APLVEC1\n"
HNSW_M = 32


class FaissVectorStore:
    """Inner-product search over normalised vectors, keyed by int64 chunk id."""

    def __init__(self, path: Path, dim: int, embedder_hash: str, hnsw_threshold: int = 50_000,
                 threads: int | None = None):
        import faiss

        self._faiss = faiss
        self.threads = threads or faiss.omp_get_max_threads()
        self.path = Path(path)
        self.dim = dim
        self.embedder_hash = embedder_hash
        self.hnsw_threshold = hnsw_threshold
        self.tombstones: set[int] = set()
        self.applied_seq = 0  # the store's change sequence this index reflects (saved with it)
        self.kind = "flat"
        self.index = self._new_index("flat")
        if self.path.exists():
            self._load()

    # -- construction -------------------------------------------------------------------
    def _new_index(self, kind: str):
        faiss = self._faiss
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = 80
            inner.hnsw.efSearch = 96
        else:
            inner = faiss.IndexFlatIP(self.dim)
        return faiss.IndexIDMap2(inner)

    def _load(self) -> None:
        raw = self.path.read_bytes()
        if not raw.startswith(MAGIC):
            raise ConsistencyError(f"{self.path} is not an appliance vector index")
        (meta_len,) = struct.unpack_from("<I", raw, len(MAGIC))
        start = len(MAGIC) + 4
        meta = json.loads(raw[start:start + meta_len])
        if meta["dim"] != self.dim:
            raise ConsistencyError(f"index dimension {meta['dim']} != embedder dimension {self.dim}")
        if meta["embedder_hash"] != self.embedder_hash:
            raise ConsistencyError("the vector index was built with a different embedding model; "
                                   "run `appliance reindex`")
        self.kind = meta["kind"]
        self.tombstones = set(meta["tombstones"])
        self.applied_seq = int(meta.get("applied_seq", 0))
        blob = np.frombuffer(raw[start + meta_len:], dtype=np.uint8)
        self.index = self._faiss.deserialize_index(blob)
        if self.kind == "hnsw":
            self._faiss.downcast_index(self.index.index).hnsw.efSearch = 96

    # -- mutation -----------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        self.tombstones.difference_update(int(i) for i in ids)
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        if self.kind == "flat" and self.index.ntotal >= self.hnsw_threshold:
            self._rebuild("hnsw")

    def remove(self, ids: Iterable[int]) -> None:
        ids = np.fromiter((int(i) for i in ids), dtype=np.int64)
        if len(ids) == 0:
            return
        if self.kind == "flat":
            self.index.remove_ids(ids)
        else:
            self.tombstones.update(int(i) for i in ids)
            if len(self.tombstones) * 4 > max(1, self.index.ntotal):
                self._rebuild("hnsw")

    def compact(self) -> None:
        """Drop the tombstones from the index itself (erasure: nothing removed may remain)."""
        if self.tombstones:
            self._rebuild(self.kind)

    def reset(self, kind: str | None = None) -> None:
        self.applied_seq = 0
        self.index = self._new_index(kind or "flat")
        self.kind = kind or "flat"
        self.tombstones = set()

    def _rebuild(self, kind: str) -> None:
        """Re-create the index (changing type, dropping tombstones) from its own vectors."""
        all_ids = self._faiss.vector_to_array(self.index.id_map).astype(np.int64)
        keep = np.array([i for i in all_ids if int(i) not in self.tombstones], dtype=np.int64)
        vectors = np.vstack([self.index.reconstruct(int(i)) for i in keep]) if len(keep) else \
            np.zeros((0, self.dim), dtype=np.float32)
        applied = self.applied_seq
        self.reset(kind)
        self.applied_seq = applied  # the same contents: the same place in the sequence
        if len(keep):
            self.index.add_with_ids(vectors.astype(np.float32), keep)

    # -- queries ------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.index.ntotal == 0:
            return []
        extra = len(self.tombstones)
        fetch = min(self.index.ntotal, k + extra)
        # One query: a single thread answers faster than an OpenMP team (see the embedder).
        self._faiss.omp_set_num_threads(1)
        try:
            scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1),
                                                                 dtype=np.float32), fetch)
        finally:
            self._faiss.omp_set_num_threads(self.threads)
        out = [(int(i), float(s)) for i, s in zip(ids[0], scores[0])
               if i >= 0 and int(i) not in self.tombstones]
        return out[:k]

    def ids(self) -> set[int]:
        arr = self._faiss.vector_to_array(self.index.id_map)
        return set(int(i) for i in arr) - self.tombstones

    def __len__(self) -> int:
        return self.index.ntotal - len(self.tombstones)

    # -- persistence --------------------------------------------------------------------
    def save(self) -> None:
        """Write header, metadata and index bytes to a temp file, fsync, then rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"dim": self.dim, "kind": self.kind, "embedder_hash": self.embedder_hash,
                           "tombstones": sorted(self.tombstones), "count": len(self),
                           "applied_seq": self.applied_seq}).encode()
        blob = self._faiss.serialize_index(self.index).tobytes()
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + struct.pack("<I", len(meta)) + meta + blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
