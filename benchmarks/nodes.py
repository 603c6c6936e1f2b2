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
         first search (target <= 2 min for 100,000 chunks); then a writer node commits
         memos and the joined node's catch-up on that large store is timed from the commit
         (target p95 <= 2 s; BM25 takes the change in the background, keyword_defer_chunks).
throughput  real `appliance serve` nodes (gunicorn, the real model; the samples handbook) on
         the same store; --clients threads ask handbook questions through the OpenAI-style
         API, streamed, spread over the nodes, for --seconds with 1 node and then with 2:
         answers per minute and time to first token p50/p95. On one 2-core box the two nodes
         share the same cores, so this measures contention, not the scale-out of separate
         boxes (docs/performance.md gives the model for N boxes).
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


def join(url: str, tmp: Path, chunks: int, rounds: int = 5) -> list[tuple]:
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
    # Catch-up on the large store: a writer node commits a memo while the joined node
    # searches for it over and over (another thread, as its users would). Measured from the
    # commit (the change rows' timestamp, written in the same transaction) to the first
    # search that returns it, wall clock.
    import threading

    from sqlalchemy import func, select

    from appliance.store import IndexChangeTable

    w = node(tmp / "writer", url)
    w.retriever.search("warm up", k=1)  # the writer builds its own indexes first
    target, seen, done = [None], {}, threading.Event()

    def poll() -> None:
        while not done.is_set():
            i = target[0]
            if i is None or i in seen:
                time.sleep(0.01)
                continue
            hits = c.retriever.search(f"quartz sample number {i} logged by the geology lab",
                                      k=10).hits
            if f"memo-{i}.md" in {h.doc_name for h in hits}:
                seen[i] = time.time()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    lags = []
    for i in range(rounds):
        target[0] = i
        w.ingest.ingest_bytes(f"memo-{i}.md", f"# Memo {i}\n\nThe quartz sample number {i} "
                              "was logged by the geology lab on the night shift.\n".encode())
        with w.store.session() as sess:
            at = sess.execute(select(func.max(IndexChangeTable.at))).scalar()
        while i not in seen:
            if time.time() - at > 60:
                raise SystemExit(f"the joined node did not see memo {i} in 60 s")
            time.sleep(0.01)
        lags.append(seen[i] - at)
    done.set()
    poller.join(10)
    c.indexes.wait_for_keywords()
    w.close()
    c.close()
    return [(f"store written directly ({chunks} chunks) (s)", chunks, f"{written:.1f}", ""),
            ("new node: snapshot build + first search (s)", chunks, f"{joined:.1f}", "≤ 120"),
            (f"catch-up at {chunks} chunks p50 (s)", rounds, f"{percentile(lags, 50):.3f}", ""),
            (f"catch-up at {chunks} chunks p95 (s)", rounds, f"{percentile(lags, 95):.3f}",
             "≤ 2")]


QUESTIONS = ("How many days of annual leave do full-time staff get?",
             "Who approves annual leave requests?", "How do I report a security incident?",
             "What must I do with personal data on a lost laptop?",
             "How much notice is needed for parental leave?")


def _has_text(line: bytes) -> bool:
    """An SSE chunk carrying answer text (not the role-only first delta, not [DONE])."""
    if not line.startswith(b"data: {"):
        return False
    choices = json.loads(line[6:]).get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


def throughput(url: str, tmp: Path, clients: int, seconds: float) -> list[tuple]:
    import shutil
    import threading

    import requests
    from _table import ROOT
    from concurrency import start, stop

    dirs = [tmp / "node-a", tmp / "node-b"]
    for folder in dirs:
        folder.mkdir()
        (folder / "appliance.toml").write_text(f'database_url = "{url}"\n'
                                               "web_secure_cookies = false\n")
    ops = node(dirs[0], url)  # initialises the store and node A's secrets
    ops.accounts.ensure_first_admin()
    admin = ops.accounts.user("admin")
    from appliance.accounts.login import Principal

    who = Principal(admin.id, "admin", "admin", "cli")
    tokens = []  # one user each: per-user API rate limits apply per user
    for i in range(clients):
        user, _ = ops.accounts.create_user(who, f"reader{i:02d}", password=f"bench-pass-{i:04d}",
                                           groups=("staff",))
        tokens.append(ops.accounts.tokens.create(
            Principal(user.id, user.username, "user", "cli"), "bench")[0])
    ops.ingest.ingest_paths([ROOT / "samples" / "handbook"], progress=False)
    ops.close()
    shutil.copytree(dirs[0] / "secrets", dirs[1] / "secrets")
    rows = []
    for count in (1, 2):
        procs = [start(folder, 1, 8) for folder in dirs[:count]]
        urls = [u for _, u in procs]
        done, ttft, errors = [], [], [0]
        stop_at = time.monotonic() + seconds

        def client(i: int) -> None:
            turn = i
            while time.monotonic() < stop_at:
                base = urls[turn % len(urls)]
                question = QUESTIONS[turn % len(QUESTIONS)]
                turn += 1
                began = time.monotonic()
                first = None
                try:
                    with requests.post(base + "/v1/chat/completions", stream=True, timeout=300,
                                       headers={"Authorization": f"Bearer {tokens[i]}"},
                                       json={"model": "appliance", "stream": True,
                                             "messages": [{"role": "user",
                                                           "content": question}]}) as reply:
                        if reply.status_code != 200:
                            errors[0] += 1
                            continue
                        for line in reply.iter_lines():
                            if first is None and _has_text(line):
                                first = time.monotonic() - began
                except requests.RequestException:
                    errors[0] += 1
                    continue
                if time.monotonic() <= stop_at + 60:
                    done.append(time.monotonic())
                    ttft.append(first if first is not None else time.monotonic() - began)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        minutes = (time.monotonic() - began) / 60
        for proc, _ in procs:
            stop(proc)
        label = f"{count} node{'s' if count > 1 else ''}"
        rows += [(f"{label}: answers per minute", len(done), f"{len(done) / minutes:.1f}", ""),
                 (f"{label}: time to first token p50 (s)", len(ttft),
                  f"{percentile(ttft, 50):.2f}", ""),
                 (f"{label}: time to first token p95 (s)", len(ttft),
                  f"{percentile(ttft, 95):.2f}", ""),
                 (f"{label}: errors", clients, str(errors[0]), "0")]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--stages", default="catchup,join",
                        help="catchup, join, throughput (comma-separated)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120)
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
                if stage == "catchup":
                    rows += catchup(url, Path(tmp), args.rounds)
                elif stage == "join":
                    rows += join(url, Path(tmp), args.chunks, min(args.rounds, 10))
                else:
                    rows += throughput(url, Path(tmp), args.clients, args.seconds)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    report("nodes", rows, ("measure", "n", "value", "target"))


if __name__ == "__main__":
    main()
