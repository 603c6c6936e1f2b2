"""Persisted BM25 keyword index (bm25s, English stopwords and Snowball stemming).

bm25s bakes IDF into its matrix, so changes rebuild the index from the store's texts; the
rebuild is done once per ingest or delete batch, not per file.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable

import numpy as np


class BM25KeywordIndex:
    """BM25 (Lucene variant) over chunk texts, keyed by chunk id."""

    def __init__(self, path: Path):
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self.path = Path(path)
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = None
        self.chunk_ids = np.zeros(0, dtype=np.int64)
        if (self.path / "ids.npy").exists():
            self._load()

    def _tokenize(self, texts: list[str]):
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer,
                                    show_progress=False)

    def rebuild(self, items: Iterable[tuple[int, str]]) -> None:
        ids, texts = [], []
        for chunk_id, text in items:
            ids.append(chunk_id)
            texts.append(text)
        self.chunk_ids = np.asarray(ids, dtype=np.int64)
        if not texts:
            self.retriever = None
            return
        retriever = self._bm25s.BM25()
        retriever.index(self._tokenize(texts), show_progress=False)
        self.retriever = retriever

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if self.retriever is None or len(self.chunk_ids) == 0:
            return []
        tokens = self._tokenize([query])
        vocab = tokens.vocab
        inverse = {v: t for t, v in vocab.items()}
        words = [inverse[i] for i in tokens.ids[0] if inverse[i] in self.retriever.vocab_dict]
        if not words:
            return []
        scores = self._scores([self.retriever.vocab_dict[w] for w in words])
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(self.chunk_ids[d]), float(scores[d])) for d in top if scores[d] > 0]

    def _scores(self, token_ids: list[int]) -> np.ndarray:
        """BM25 score of every chunk: the sum of its precomputed per-token scores.

        Same sums as bm25s' own scorer, but one np.bincount over the query tokens' postings
        instead of an np.add.at per token in a worker thread (a common-word query at 100k
        chunks drops from ~18 ms to ~2 ms).
        """
        matrix = self.retriever.scores
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        spans = [(indptr[t], indptr[t + 1]) for t in token_ids]
        rows = np.concatenate([indices[a:b] for a, b in spans])
        weights = np.concatenate([data[a:b] for a, b in spans]).astype(np.float64)
        return np.bincount(rows, weights=weights, minlength=int(matrix["num_docs"]))

    def ids(self) -> set[int]:
        return set(int(i) for i in self.chunk_ids)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def save(self) -> None:
        """Write to a sibling temp dir, then swap it in with renames."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.retriever is not None:
            self.retriever.save(str(tmp / "bm25"))
        np.save(tmp / "ids.npy", self.chunk_ids)
        _fsync_dir_files(tmp)
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            os.replace(self.path, old)
        os.replace(tmp, self.path)
        shutil.rmtree(old, ignore_errors=True)

    def _load(self) -> None:
        self.chunk_ids = np.load(self.path / "ids.npy")
        if (self.path / "bm25").exists():
            self.retriever = self._bm25s.BM25.load(str(self.path / "bm25"))


def recover_keyword_dir(path: Path) -> None:
    """If a crash hit between the two renames of save(), put the previous index back."""
    old = path.with_name(path.name + ".old")
    if not path.exists() and old.exists():
        os.replace(old, path)


def _fsync_dir_files(directory: Path) -> None:
    for file in directory.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())
