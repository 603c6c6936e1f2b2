"""Query embedding + hybrid search latency at 10k and 100k chunks (p50, p95).

    python benchmarks/search_latency.py [--sizes 10000 100000] [--queries 300]

Real SciFact chunks are embedded once; larger stores repeat them with small perturbations of
the vectors (and a variant tag in the text), written straight into the store, and the indexes
are built by the appliance's own reconcile (FAISS flat below hnsw_threshold, HNSW above, BM25).
Each query runs the full HybridRetriever.search: embed the query, FAISS, BM25, fuse, load the
chunk rows. Target (issue 3): p50 <= 10 ms and p95 <= 25 ms at 100k chunks on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from _table import SCIFACT, percentile, report


def base_chunks(app, limit: int) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    from appliance.knowledge.chunking import chunk_blocks, index_text
    from appliance.knowledge.extraction import Block

    rows = []
    with open(SCIFACT / "corpus.jsonl") as fh:
        for line in fh:
            rec = json.loads(line)
            for c in chunk_blocks([Block(rec["text"], None, rec["title"])],
                                  app.embedder.tokenize_offsets, app.settings.chunk_size,
                                  app.settings.chunk_overlap):
                rows.append((rec["_id"], c.text, c.section))
            if len(rows) >= limit:
                break
    rows = rows[:limit]
    vectors = app.embedder.embed([index_text(t, s) for _, t, s in rows])
    return rows, vectors


def fill_store(app, rows, vectors, size: int, rng) -> None:
    from appliance.store.tables import ChunkTable, DocumentTable

    docs, chunks = [], []
    doc_id = chunk_id = 0
    copy = 0
    while chunk_id < size:
        last = None
        for (name, text, section), vec in zip(rows, vectors):
            if chunk_id >= size:
                break
            if name != last:
                doc_id += 1
                last = name
                docs.append(dict(id=doc_id, name=f"{name}-v{copy}.md", collection="bench",
                                 sha256=f"{doc_id:064x}", version=1, mime_type="text/markdown",
                                 size_bytes=len(text)))
            chunk_id += 1
            if copy:
                vec = vec + rng.normal(0, 0.03, vec.shape).astype(np.float32)
                vec /= np.linalg.norm(vec)
                text = f"{text} (variant {copy})"
            chunks.append(dict(id=chunk_id, document_id=doc_id, document_version=1, ordinal=0,
                               text=text, page=None, section=section,
                               token_count=len(text.split()),
                               embedding=np.asarray(vec, np.float32).tobytes()))
        copy += 1
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    for d in docs:
        d["created_at"] = d["updated_at"] = now
    with app.store.session() as sess:
        sess.execute(DocumentTable.__table__.insert(), docs)
        for start in range(0, len(chunks), 20000):
            sess.execute(ChunkTable.__table__.insert(), chunks[start:start + 20000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    from appliance.services import build_services
    from appliance.settings import load_settings

    queries = [json.loads(l)["text"] for l in open(SCIFACT / "queries.jsonl")][:args.queries]
    rng = np.random.default_rng(0)
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        probe = build_services(load_settings({"data_dir": str(Path(tmp) / "probe")}))
        t0 = time.perf_counter()
        rows, vectors = base_chunks(probe, min(10_000, max(args.sizes)))
        print(f"embedded {len(rows)} real chunks in {time.perf_counter() - t0:.0f} s")
        for size in args.sizes:
            app = build_services(load_settings({"data_dir": str(Path(tmp) / f"n{size}")}))
            app.__dict__["embedder"] = probe.embedder
            fill_store(app, rows, vectors, size, rng)
            t0 = time.perf_counter()
            _ = app.indexes  # reconcile builds FAISS and BM25 from the store
            build_s = time.perf_counter() - t0
            for q in queries[:20]:
                app.retriever.search(q, k=5)  # warm up
            lat, parts = [], {}
            for q in queries:
                t = time.perf_counter()
                res = app.retriever.search(q, k=5)
                lat.append((time.perf_counter() - t) * 1000)
                for key, value in res.timings_ms.items():
                    parts.setdefault(key, []).append(value)
            rows_out.append((size, app.indexes.vectors.kind, round(build_s, 1),
                             round(percentile(lat, 50), 2), round(percentile(lat, 95), 2),
                             round(percentile(parts["embed"], 50), 2),
                             round(percentile(parts["dense"], 50), 2),
                             round(percentile(parts["keyword_wait"], 50), 2),
                             round(percentile(parts["hydrate"], 50), 2)))
            app.close()
        probe.close()
    report("search_latency", rows_out, ("chunks", "faiss", "build_s", "p50_ms", "p95_ms",
                                        "embed_p50", "dense_p50", "kw_wait_p50", "hydrate_p50"),
           {"targets": {"p50_ms": 10, "p95_ms": 25, "at_chunks": 100_000}})


if __name__ == "__main__":
    main()
