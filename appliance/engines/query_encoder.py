"""OnnxQueryEncoder: one short text (a search query) through ONNX Runtime.

A query is one short text, and for it PyTorch's per-operator overhead costs more than the
arithmetic: ONNX Runtime runs the same weights in a fraction of the time. The graph is exported
from a fresh float32 copy of the embedder's own transformer (export leaves the exported module
unusable, so never the live one). With ``precision="int8"`` its matrix multiplications are then
quantized dynamically (int8 weights per output channel, activations quantized per call), which
roughly halves a query's time on CPUs without AVX-512; the vectors drift slightly from the
float32 document vectors (cosine about 0.99 on real queries), which the SciFact benchmark
measures. The graph
is checked against the float32 copy on probe texts and cached as
``embedder-<model hash>-f<FORMAT>-<precision>.onnx`` with a sidecar holding its sha256, so a
changed or corrupt file is exported again rather than trusted. Next to it lies the query
tokenizer (``….tokenizer.json``, the embedder's own Rust tokenizer, serialised), so a cached
graph answers queries without importing transformers or PyTorch.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the exported graph changes shape or meaning
PROBES = ("ok", "Which policy covers remote access to patient records?", "word " * 300)
PRECISIONS = ("float32", "int8")
# cosine against the float32 PyTorch model on every probe (int8: about 0.99 on real queries,
# 0.96 on the degenerate one-word "ok")
MIN_AGREEMENT = {"float32": 0.9999, "int8": 0.95}


class OnnxQueryEncoder:
    """Mean-pooled, normalised embedding of a single text; same tokenizer as the embedder."""

    def __init__(self, session: Any, tokenizer: Any, max_tokens: int):
        """`tokenizer` is this encoder's own Rust tokenizer (`tokenizers.Tokenizer`: one is
        not shareable)."""
        self.session, self.max_tokens = session, max_tokens
        # The Rust tokenizer itself, set up once: the transformers wrapper re-applies its
        # truncation settings and builds tensors on every call, which costs more than encoding.
        self._tokenizer = tokenizer
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()

    def embed_one(self, text: str) -> np.ndarray:
        with self._lock:
            ids = np.asarray([self._tokenizer.encode(text).ids], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids,
                                         "attention_mask": np.ones_like(ids)})[0][0]
        vector = hidden.mean(axis=0)  # one unpadded text: every token counts
        return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)

    def tokenizer_json(self) -> str:
        """The tokenizer as set up here (truncation included), serialised for the cache."""
        with self._lock:
            return self._tokenizer.to_str()


def load_query_encoder(model_dir: str, model_hash: str, tokenizer: Callable[[], Any],
                       max_tokens: int, threads: int, cache_dir: Path | None,
                       precision: str = "float32") -> OnnxQueryEncoder:
    """The cached graph when its sha256 checks out, else a fresh export (checked first).

    `tokenizer()` returns the embedder's transformers tokenizer (a copy of its own); it is
    called only when the cache cannot answer, since it loads the embedding model."""
    import onnxruntime as ort

    ort.disable_telemetry_events()  # also off by ORT_DISABLE_TELEMETRY (appliance/__init__.py)
    if precision not in PRECISIONS:
        raise ValueError(f"query precision must be one of {PRECISIONS}, not {precision!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, min(threads, 2))  # more threads don't pay for 20 tokens
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Threads spin between the graph's many small operators (a query is ~60 of them, each a
    # few microseconds of work), and stop spinning when the run ends, so they do not take the
    # cores that keyword search and answer generation need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    cached = _cached(cache_dir, model_hash, precision)
    if cached is not None:
        data, rust = cached
        if rust is None:  # a graph cached without its tokenizer (by an earlier version)
            encoder = OnnxQueryEncoder(_session(ort, data, options),
                                       tokenizer().backend_tokenizer, max_tokens)
            _store(cache_dir, model_hash, precision, data, encoder.tokenizer_json())
            return encoder
        return OnnxQueryEncoder(_session(ort, data, options), rust, max_tokens)
    hf_tokenizer = tokenizer()
    data, reference = _export(model_dir, hf_tokenizer, max_tokens)
    if precision == "int8":
        data = _quantized(data)
    encoder = OnnxQueryEncoder(_session(ort, data, options), hf_tokenizer.backend_tokenizer,
                               max_tokens)
    worst = min(float(encoder.embed_one(t) @ reference[t]) for t in PROBES)
    if worst < MIN_AGREEMENT[precision]:
        raise RuntimeError(f"exported {precision} query graph disagrees with the model "
                           f"(cosine {worst:.5f})")
    if cache_dir is not None:
        _store(cache_dir, model_hash, precision, data, encoder.tokenizer_json())
    return encoder


def _quantized(data: bytes) -> bytes:
    """Dynamic int8 quantization of the graph's MatMuls, per output channel (unsigned 8-bit:
    without VNNI, AVX2 kernels lose precision with signed int8 weights)."""
    import logging as std_logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    quant_log = std_logging.getLogger()  # the quantizer warns about pre-processing on root
    level = quant_log.level
    quant_log.setLevel(std_logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(prefix="appliance-onnx-") as tmp:
            src, dst = Path(tmp) / "f32.onnx", Path(tmp) / "int8.onnx"
            src.write_bytes(data)
            quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QUInt8,
                             op_types_to_quantize=["MatMul"],
                             extra_options={"DefaultTensorType": 1})  # FLOAT, for shape-less nodes
            return dst.read_bytes()
    finally:
        quant_log.setLevel(level)


def _session(ort: Any, data: bytes, options: Any) -> Any:
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def _names(cache_dir: Path, model_hash: str, precision: str) -> tuple[Path, Path, Path]:
    stem = f"embedder-{model_hash[:16]}-f{FORMAT}-{precision}"
    return (cache_dir / f"{stem}.onnx", cache_dir / f"{stem}.json",
            cache_dir / f"{stem}.tokenizer.json")


def _cached(cache_dir: Path | None, model_hash: str,
            precision: str) -> tuple[bytes, Any] | None:
    """(graph bytes, Rust tokenizer or None when not cached with it), or None."""
    if cache_dir is None:
        return None
    graph, sidecar, tokenizer = _names(cache_dir, model_hash, precision)
    try:
        meta = json.loads(sidecar.read_text())
        data = graph.read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        log.warning("query graph %s does not match its sha256; exporting it again", graph.name)
        return None
    try:
        text = tokenizer.read_bytes()
    except OSError:
        return data, None
    if hashlib.sha256(text).hexdigest() != meta.get("tokenizer_sha256"):
        return data, None  # written again from the embedder's own tokenizer
    from tokenizers import Tokenizer

    return data, Tokenizer.from_str(text.decode("utf-8"))


def _store(cache_dir: Path, model_hash: str, precision: str, data: bytes,
           tokenizer_json: str) -> None:
    """Graph and tokenizer first, then the sidecar holding their sha256s."""
    graph, sidecar, tokenizer = _names(cache_dir, model_hash, precision)
    cache_dir.mkdir(parents=True, exist_ok=True)
    text = tokenizer_json.encode("utf-8")
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "model_sha256": model_hash,
            "format": FORMAT, "precision": precision,
            "tokenizer_sha256": hashlib.sha256(text).hexdigest()}
    for path, payload in ((graph, data), (tokenizer, text),
                          (sidecar, json.dumps(meta).encode())):
        write_atomically(path, payload)


def write_atomically(path: Path, payload: bytes) -> None:
    """Write to a temp file beside `path`, fsync, then rename over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
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
