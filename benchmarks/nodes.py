"""Several nodes on one PostgreSQL store (issue 24): how fast a node sees another's writes,
and how fast a new node joins a large store.

    python benchmarks/nodes.py [--rounds 20] [--chunks 100000]

catchup  node A ingests a document; node B (its own data dir and index files, the same
         PostgreSQL) searches until the document is found: the time from A's commit to B's
         first hit, p50/p95 (target p95 <= 2 s). Both nodes live in this one process, which
         is the worst case for CPU but the same code path as separate processes.
join     N chunks (SciFact abstracts, with embeddings from the real embedder for the first
         2,000 and copies of those vectors for the rest) written straight into the store,
         then a new node with an empty data dir builds its indexes (snapshot) and answers its
         first search (target <= 2 min for 100,000 chunks).
Needs PostgreSQL at 127.0.0.1:5432 (trust auth); makes and drops its own database.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from _table import SCIFACT, percentile, report

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def node(data: Path, url: str):
    from appliance.services import build_services
    from appliance.settings import load_settings

    return build_services(load_settings({"data_dir": str(data), "database_url": url},
                                        environ={}))


def catchup(url: str, tmp: Path, rounds: int) -> list[tuple]:
    a, b = node(tmp / "a", url), node(tmp / "b", url)
    b.retriever.search("warm up", k=1)
    lags = []
    for i in range(rounds):
        tag = f"qz{uuid.uuid4().hex[:10]}"  # one word no other memo has: BM25 finds it
        a.ingest.ingest_bytes(f"memo-{i}.md", f"# Memo {i}\n\nThe quartz sample {tag} was "
                              "logged by the lab.\n".encode())
        committed = time.perf_counter()
        while f"memo-{i}.md" not in {h.doc_name for h in
                                     b.retriever.search(f"quartz sample {tag}", k=20).hits}:
            if time.perf_counter() - committed > 30:
                raise SystemExit(f"node B did not see memo {i} in 30 s")
        lags.append(time.perf_counter() - committed)
    a.close()
    b.close()
    return [("catch-up p50 (s)", rounds, f"{percentile(lags, 50):.3f}", ""),
            ("catch-up p95 (s)", rounds, f"{percentile(lags, 95):.3f}", "≤ 2")]


def join(url: str, tmp: Path, chunks: int) -> list[tuple]:
    import numpy as np

    from appliance.store import ChunkTable, DocumentTable

    a = node(tmp / "seed", url)
    texts = [json.loads(line)["text"][:700] for line in
             (SCIFACT / "corpus.jsonl").read_text().splitlines()[:2000]]
    vectors = a.embedder.embed(texts)
    t = time.perf_counter()
    per_doc = 100
    for first in range(0, chunks // per_doc, 50):  # 5,000 chunks a transaction
        with a.store.session() as sess:
            for d in range(first, min(first + 50, chunks // per_doc)):
                doc = DocumentTable(name=f"bulk-{d}.md", collection="default",
                                    sha256=f"{d:064x}", version=1, mime_type="text/markdown",
                                    size_bytes=1)
                sess.add(doc)
                sess.flush()
                picks = [(d * per_doc + j) % len(texts) for j in range(per_doc)]
                sess.add_all([ChunkTable(document_id=doc.id, document_version=1, ordinal=j,
                                         text=texts[p], page=None, section=None,
                                         token_count=120,
                                         embedding=np.asarray(vectors[p], np.float32).tobytes())
                              for j, p in enumerate(picks)])
    written = time.perf_counter() - t
    a.close()
    t = time.perf_counter()
    c = node(tmp / "new", url)
    hits = c.retriever.search("vitamin D deficiency", k=3).hits
    joined = time.perf_counter() - t
    assert hits, "the new node found nothing"
    c.close()
    return [(f"store written directly ({chunks} chunks) (s)", chunks, f"{written:.1f}", ""),
            ("new node: snapshot build + first search (s)", chunks, f"{joined:.1f}", "≤ 120")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--stages", default="catchup,join")
    args = parser.parse_args()
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    rows = []
    for stage in args.stages.split(","):
        name = f"appliance_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        try:
            with tempfile.TemporaryDirectory() as tmp:
                rows += (catchup(url, Path(tmp), args.rounds) if stage == "catchup"
                         else join(url, Path(tmp), args.chunks))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    report("nodes", rows, ("measure", "n", "value", "target"))


if __name__ == "__main__":
    main()
