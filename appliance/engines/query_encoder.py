"""OnnxQueryEncoder: one short text (a search query) through ONNX Runtime.

A query is one short text, and for it PyTorch's per-operator overhead and bf16 kernels cost
more than the arithmetic: ONNX Runtime runs the same float32 weights in about 6 ms instead of
9-11 ms on 2 cores. The graph is exported from a fresh float32 copy of the embedder's own
transformer (export leaves the exported module unusable, so never the live one), checked
against that copy on probe texts, and cached as ``embedder-<model hash>.onnx`` with a sidecar
holding its sha256, so a changed or corrupt file is exported again rather than trusted.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the exported graph changes shape or meaning
PROBES = ("ok", "Which policy covers remote access to patient records?", "word " * 300)
MIN_AGREEMENT = 0.9999  # cosine against the float32 PyTorch model on every probe


class OnnxQueryEncoder:
    """Mean-pooled, normalised embedding of a single text; same tokenizer as the embedder."""

    def __init__(self, session: Any, tokenizer: Any, max_tokens: int):
        """`tokenizer` is this encoder's own copy (a Rust tokenizer is not shareable)."""
        self.session, self.tokenizer, self.max_tokens = session, tokenizer, max_tokens
        self._lock = threading.Lock()

    def embed_one(self, text: str) -> np.ndarray:
        with self._lock:
            enc = self.tokenizer([text], return_tensors="np", truncation=True,
                                 max_length=self.max_tokens)
        mask = enc["attention_mask"].astype(np.int64)
        hidden = self.session.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                         "attention_mask": mask})[0][0]
        vector = hidden.mean(axis=0)  # one unpadded text: every token counts
        return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


def load_query_encoder(model_dir: str, model_hash: str, tokenizer: Any, max_tokens: int,
                       threads: int, cache_dir: Path | None) -> OnnxQueryEncoder:
    """The cached graph when its sha256 checks out, else a fresh export (checked first)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, min(threads, 2))  # more threads don't pay for 20 tokens
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle threads must sleep: spinning ones steal the core that the keyword search and the
    # answer generation need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    cached = _cached(cache_dir, model_hash)
    if cached is not None:
        encoder = OnnxQueryEncoder(_session(ort, cached, options), tokenizer, max_tokens)
        return encoder
    data, reference = _export(model_dir, tokenizer, max_tokens)
    encoder = OnnxQueryEncoder(_session(ort, data, options), tokenizer, max_tokens)
    worst = min(float(encoder.embed_one(t) @ reference[t]) for t in PROBES)
    if worst < MIN_AGREEMENT:
        raise RuntimeError(f"exported query graph disagrees with the model (cosine {worst:.5f})")
    if cache_dir is not None:
        _store(cache_dir, model_hash, data)
    return encoder


def _session(ort: Any, data: bytes, options: Any) -> Any:
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _names(cache_dir: Path, model_hash: str) -> tuple[Path, Path]:
    stem = f"embedder-{model_hash[:16]}-f{FORMAT}"
    return cache_dir / f"{stem}.onnx", cache_dir / f"{stem}.json"


def _cached(cache_dir: Path | None, model_hash: str) -> bytes | None:
    if cache_dir is None:
        return None
    graph, sidecar = _names(cache_dir, model_hash)
    try:
        expected = json.loads(sidecar.read_text())["sha256"]
        data = graph.read_bytes()
    except (OSError, ValueError, KeyError):
        return None
    if hashlib.sha256(data).hexdigest() != expected:
        log.warning("query graph %s does not match its sha256; exporting it again", graph.name)
        return None
    return data


def _store(cache_dir: Path, model_hash: str, data: bytes) -> None:
    graph, sidecar = _names(cache_dir, model_hash)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for path, payload in ((graph, data), (sidecar, json.dumps(
            {"sha256": hashlib.sha256(data).hexdigest(), "model_sha256": model_hash,
             "format": FORMAT}).encode())):
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def _export(model_dir: str, tokenizer: Any, max_tokens: int) -> tuple[bytes, dict[str, np.ndarray]]:
    """ONNX bytes of a fresh float32 copy of the transformer, and that copy's probe vectors."""
    import warnings

    import torch
    from transformers import AutoModel

    class Hidden(torch.nn.Module):
        def __init__(self, model: Any):
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = Hidden(AutoModel.from_pretrained(model_dir, torch_dtype=torch.float32,
                                             local_files_only=True).eval())
    reference = {}
    with torch.inference_mode():
        for text in PROBES:
            enc = tokenizer([text], return_tensors="pt", truncation=True, max_length=max_tokens)
            vec = model(enc["input_ids"], enc["attention_mask"])[0].mean(dim=0)
            reference[text] = torch.nn.functional.normalize(vec, dim=-1).numpy()
    # Trace on a padded batch so the graph keeps the attention-mask arithmetic.
    sample = tokenizer(["probe", "a longer probe text"], return_tensors="pt", padding=True)
    with tempfile.TemporaryDirectory(prefix="appliance-onnx-") as tmp, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "query.onnx"
        torch.onnx.export(model, (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"}})
        return path.read_bytes(), reference
