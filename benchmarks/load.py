"""Load and endurance: many users mixing chat, API calls and uploads against `appliance serve`.

    python benchmarks/load.py [--users 64] [--minutes 10] [--warmup 2] [--workers 1]

Builds a temporary data dir (the samples; `--users` users who may read and write the default
collection, each with an API token), starts the server (gunicorn, the real model) on a free
loopback port, and runs one thread per user until the time is up. Each user logs in through
the web form, then loops: pick an action, do it, think for 1-6 s. Actions (weights): a web
chat question over server-sent events (30), an API chat completion with the official request
shape (20), an API embeddings call (15, the search side: query embedding), the document list
(15), a small Markdown upload (10), and a deliberately bad upload (10: a decompression-bomb
.docx or binary noise, which must be refused with 4xx while everyone else carries on).

Reported: requests and errors per action (an error is a 5xx, a dropped connection or a chat
stream without an answer; a 4xx is an error only where a 2xx was due), the fair queue's waits
as the server reports them, and the server's memory: the summed RSS of its process group
sampled every 10 s; growth is the last sample against the first after warm-up.
Targets (issue 20): 64 users x 10 minutes, 0 errors, RSS growth <= 10%.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import tempfile
import threading
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import requests
from _table import ROOT, percentile, report
from concurrency import PASSWORD, login, start, stop

WEIGHTS = {"web chat": 30, "api chat": 20, "embeddings": 15, "documents": 15, "upload": 10,
           "bad upload": 10}


def prepare(data: Path, users: int) -> list[str]:
    """The samples, `users` users who may write the default collection; their API tokens."""
    from appliance.services import build_services
    from appliance.settings import load_settings

    app = build_services(load_settings({"data_dir": str(data)}, environ={}))
    tokens = []
    try:
        access = app.accounts.access
        access.create_group(None, "staff")
        access.set_grant(None, "staff", "default", "write")
        for i in range(users):
            app.accounts.create_user(None, f"user{i:02d}", "user", PASSWORD, ("staff",))
            _, who = app.accounts.sessions.login(f"user{i:02d}", PASSWORD, "127.0.0.1")
            tokens.append(app.accounts.tokens.create(who, "load")[0])
        app.ingest.ingest_paths([ROOT / "samples" / "handbook"], progress=False)
    finally:
        app.close()
    return tokens


def bomb() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as part:
            for _ in range(300):
                part.write(b"<w:p>" + b"a" * (2**20 - 10) + b"</w:p>")
    return archive.getvalue()


class Run:
    def __init__(self, url: str, deadline: float, questions: list[str]):
        self.url, self.deadline, self.questions = url, deadline, questions
        self.counts: Counter = Counter()
        self.errors: dict[str, Counter] = defaultdict(Counter)
        self.waits: list[float] = []
        self.lock = threading.Lock()
        self.bomb = bomb()

    def note(self, action: str, error: str | None = None, wait: float | None = None) -> None:
        with self.lock:
            self.counts[action] += 1
            if error:
                self.errors[action][error[:120]] += 1
            if wait is not None:
                self.waits.append(wait)

    def user(self, index: int, token: str) -> None:
        rng = random.Random(index)
        try:
            cookie, csrf = login(self.url, f"user{index:02d}", PASSWORD)
        except Exception as exc:  # noqa: BLE001 - reported as an error row
            self.note("login", str(exc))
            return
        web = {"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": self.url}
        api = {"Authorization": f"Bearer {token}"}
        actions, weights = zip(*WEIGHTS.items())
        n = 0
        while time.time() < self.deadline:
            action = rng.choices(actions, weights)[0]
            n += 1
            try:
                error, wait = getattr(self, "_" + action.replace(" ", "_"))(rng, web, api,
                                                                            index, n)
            except requests.RequestException as exc:
                error, wait = f"connection: {type(exc).__name__}", None
            self.note(action, error, wait)
            time.sleep(rng.uniform(1, 6))

    def _web_chat(self, rng, web, api, index, n):
        with requests.post(self.url + "/chat/ask", json={"question": rng.choice(self.questions)},
                           headers=web, stream=True, timeout=900) as resp:
            if resp.status_code != 200:
                return f"HTTP {resp.status_code}", None
            event, wait, done = None, None, False
            for line in resp.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    body = json.loads(line[6:])
                    if event == "start":
                        wait = body["queue_wait_ms"] / 1000
                    elif event == "error":
                        return f"stream error: {body.get('message', '')}", wait
                    elif event == "done":
                        done = True
            return (None if done else "stream ended without an answer"), wait

    def _api_chat(self, rng, web, api, index, n):
        body = {"model": "appliance",
                "messages": [{"role": "user", "content": rng.choice(self.questions)}]}
        resp = requests.post(self.url + "/v1/chat/completions", json=body, headers=api,
                             timeout=900)
        if resp.status_code != 200:
            return f"HTTP {resp.status_code}", None
        return (None if resp.json()["choices"][0]["message"]["content"] else "empty"), None

    def _embeddings(self, rng, web, api, index, n):
        resp = requests.post(self.url + "/v1/embeddings", headers=api, timeout=120, json={
            "model": "all-minilm-l6-v2", "input": rng.choice(self.questions)})
        return (None if resp.status_code == 200 else f"HTTP {resp.status_code}"), None

    def _documents(self, rng, web, api, index, n):
        resp = requests.get(self.url + "/documents", headers=web, timeout=120)
        return (None if resp.status_code == 200 else f"HTTP {resp.status_code}"), None

    def _upload(self, rng, web, api, index, n):
        text = f"# Note {index}-{n}\n\nThe canteen opens at {7 + n % 3}:30 on weekdays.\n"
        resp = requests.post(self.url + "/documents/upload", headers=web | {
            "Accept": "application/json"}, files={"file": (f"note-{index}-{n}.md", text)},
            timeout=300)
        return (None if resp.status_code in (200, 201) else f"HTTP {resp.status_code}"), None

    def _bad_upload(self, rng, web, api, index, n):
        name, data = ((f"bomb-{index}-{n}.docx", self.bomb) if n % 2 else
                      (f"noise-{index}-{n}.pdf", b"%PDF-1.7\n" + rng.randbytes(20_000)))
        resp = requests.post(self.url + "/documents/upload", headers=web | {
            "Accept": "application/json"}, files={"file": (name, data)}, timeout=300)
        refused = 400 <= resp.status_code < 500 and "error" in resp.json()
        return (None if refused else f"HTTP {resp.status_code} (a refusal was due)"), None


def group_rss_mb(pgid: int) -> float:
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.getpgid(int(pid)) != pgid:
                continue
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmRSS"))
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2, help="minutes before RSS counts")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=96, help="threads per worker")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    facts = json.loads((ROOT / "tests" / "data" / "sample_facts.json").read_text())
    questions = [f["question"] for f in facts]
    with tempfile.TemporaryDirectory(prefix="appliance-load-") as tmp:
        data = Path(tmp)
        print(f"preparing {data} ({args.users} users) ...", flush=True)
        tokens = prepare(data, args.users)
        proc, url = start(data, args.workers, args.threads)
        samples: list[tuple[float, float]] = []
        try:
            t0 = time.time()
            run = Run(url, t0 + args.minutes * 60, questions)
            users = [threading.Thread(target=run.user, args=(i, tok), daemon=True)
                     for i, tok in enumerate(tokens)]
            for t in users:
                t.start()
            while any(t.is_alive() for t in users):
                samples.append((time.time() - t0, group_rss_mb(proc.pid)))
                ready = requests.get(url + "/readyz", timeout=30).status_code
                if ready != 200:
                    run.note("readyz", f"HTTP {ready}")
                time.sleep(10)
            wall = time.time() - t0
        finally:
            stop(proc)
    after = [mb for t, mb in samples if t >= args.warmup * 60] or [mb for _, mb in samples]
    growth = (after[-1] / after[0] - 1) if after and after[0] else 0.0
    errors = sum(sum(c.values()) for c in run.errors.values())
    table = [(action, run.counts[action], sum(run.errors[action].values()),
              "; ".join(f"{m} x{c}" for m, c in run.errors[action].most_common(2)) or "-")
             for action in list(WEIGHTS) + ["login", "readyz"] if run.counts[action]]
    waits = run.waits

    def ms(q):
        return round(percentile(waits, q) * 1000) if waits else "-"

    summary = {"users": args.users, "minutes": round(wall / 60, 1), "requests":
               sum(run.counts.values()), "errors": errors, "queue_wait_p50_ms": ms(50),
               "queue_wait_p95_ms": ms(95), "queue_wait_max_ms": ms(100),
               "rss_mb_after_warmup": round(after[0]) if after else None,
               "rss_mb_end": round(after[-1]) if after else None,
               "rss_growth": round(growth, 3), "rss_samples": [round(mb) for _, mb in samples],
               "target": "0 errors, RSS growth <= 10%"}
    report("load", table, ("action", "requests", "errors", "what"), summary)
    print(json.dumps(summary) if args.json else
          f"{summary['requests']} requests, {errors} errors, queue wait p50/p95/max "
          f"{ms(50)}/{ms(95)}/{ms(100)} ms, RSS {summary['rss_mb_after_warmup']} -> "
          f"{summary['rss_mb_end']} MB ({growth:+.1%})")
    if errors:
        raise SystemExit(f"{errors} errors")


if __name__ == "__main__":
    main()
