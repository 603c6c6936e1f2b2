"""Concurrent chat sessions against `appliance serve` (gunicorn, the real model).

    python benchmarks/concurrency.py [--sessions 16] [--questions 1] [--workers 1]
    python benchmarks/concurrency.py --url http://127.0.0.1:8080 --user admin --password ...

Without --url it builds a temporary data dir (the samples, one user per session), starts the
server on a free loopback port and stops it afterwards. Every session logs in through the web
form, then asks its questions through the chat's server-sent events at the same moment as
the others. Reported: errors, time to first answer text (TTFT, queue included), the queue
wait the server reports, the place in line each session was first told, and the total.
Target (issue 6): 16 concurrent sessions complete without an error.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from _table import ROOT, percentile, report

PASSWORD = "benchmark password 1234"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(data: Path, sessions: int) -> None:
    """The samples in the default collection and `sessions` users who may read it."""
    from appliance.services import build_services
    from appliance.settings import load_settings

    app = build_services(load_settings({"data_dir": str(data)}, environ={}))
    try:
        access = app.accounts.access
        access.create_group(None, "staff")
        access.set_grant(None, "staff", "default", "read")
        for i in range(sessions):
            app.accounts.create_user(None, f"user{i:02d}", "user", PASSWORD, ("staff",))
        app.ingest.ingest_paths([ROOT / "samples" / "handbook"], progress=False)
    finally:
        app.close()


def start(data: Path, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    from appliance.engines.model_files import assemble_generator
    from appliance.settings import load_settings

    assemble_generator(load_settings({"data_dir": str(data)}, environ={}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "--data-dir", str(data), "serve",
                             "--port", str(port), "--workers", str(workers),
                             "--threads", str(threads)],
                            env=env, stdout=(data / "serve.log").open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit((data / "serve.log").read_text()[-2000:])
        try:
            if requests.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop(proc)
    raise SystemExit("the server did not become ready")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def login(url: str, user: str, password: str) -> tuple[str, str]:
    """Log in like a browser; returns (Cookie header, CSRF token). Cookies are handled by
    hand because the session cookie is Secure and requests will not send it over HTTP."""
    page = requests.get(url + "/login", timeout=30)
    pre = page.headers["Set-Cookie"].split(";")[0]
    form = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = requests.post(url + "/login", data={"username": user, "password": password,
                                               "csrf_token": form},
                         headers={"Cookie": pre, "Origin": url}, allow_redirects=False,
                         timeout=60)
    if done.status_code != 303:
        raise RuntimeError(f"login failed for {user}: HTTP {done.status_code}")
    cookie = done.headers["Set-Cookie"].split(";")[0]
    chat = requests.get(url + "/chat", headers={"Cookie": cookie}, timeout=30)
    return cookie, re.search(r'name="csrf-token" content="([^"]+)"', chat.text).group(1)


def session(url: str, user: str, password: str, questions: list[str],
            barrier: threading.Barrier, out: list[dict]) -> None:
    try:
        cookie, csrf = login(url, user, password)
    except Exception as exc:  # noqa: BLE001 - reported as an error row
        barrier.wait()
        out.append({"user": user, "error": f"login: {exc}"})
        return
    barrier.wait()
    for question in questions:
        t0 = time.perf_counter()
        row = {"user": user, "error": None, "ttft_s": None, "queue_wait_s": None,
               "first_place": 0}
        try:
            with requests.post(url + "/chat/ask", json={"question": question}, stream=True,
                               timeout=900, headers={"Cookie": cookie, "X-CSRF-Token": csrf,
                                                     "Origin": url}) as resp:
                if resp.status_code != 200:
                    raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
                event = None
                for line in resp.iter_lines(decode_unicode=True):
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data = json.loads(line[6:])
                        if event == "queue" and not row["first_place"]:
                            row["first_place"] = data["position"]
                        elif event == "start":
                            row["queue_wait_s"] = data["queue_wait_ms"] / 1000
                        elif event == "token" and row["ttft_s"] is None:
                            row["ttft_s"] = time.perf_counter() - t0
                        elif event == "error":
                            raise RuntimeError(data["message"])
                        elif event == "done":
                            row["refused"] = data["refused"]
                if "refused" not in row:
                    raise RuntimeError("the stream ended without an answer")
        except Exception as exc:  # noqa: BLE001 - reported as an error row
            row["error"] = str(exc)
        row["total_s"] = time.perf_counter() - t0
        out.append(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--questions", type=int, default=1, help="questions per session")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (own server)")
    parser.add_argument("--threads", type=int, default=32, help="threads per worker")
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--user", help="with --url: log every session in as this user")
    parser.add_argument("--password", help="with --url: that user's password")
    args = parser.parse_args()
    facts = json.loads((ROOT / "tests" / "data" / "sample_facts.json").read_text())
    pool = [f["question"] for f in facts]

    tmp = None if args.url else tempfile.TemporaryDirectory(prefix="appliance-bench-")
    proc = None
    try:
        if args.url:
            url = args.url.rstrip("/")
            users = [(args.user, args.password)] * args.sessions
        else:
            data = Path(tmp.name)
            print(f"preparing {data} ...", flush=True)
            prepare(data, args.sessions)
            proc, url = start(data, args.workers, args.threads)
            users = [(f"user{i:02d}", PASSWORD) for i in range(args.sessions)]
        barrier = threading.Barrier(args.sessions)
        rows: list[dict] = []
        threads = [threading.Thread(target=session, args=(
            url, user, password,
            [pool[(i * args.questions + j) % len(pool)] for j in range(args.questions)],
            barrier, rows)) for i, (user, password) in enumerate(users)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        if proc is not None:
            stop(proc)
        if tmp is not None:
            tmp.cleanup()

    ok = [r for r in rows if not r.get("error")]
    errors = [r for r in rows if r.get("error")]
    ttft = [r["ttft_s"] for r in ok if r["ttft_s"] is not None]
    wait = [r["queue_wait_s"] for r in ok if r["queue_wait_s"] is not None]
    total = [r["total_s"] for r in ok]
    places = [r["first_place"] for r in ok]

    def ms(values, q):
        return round(percentile(values, q) * 1000) if values else "-"

    table = [("time to first token", ms(ttft, 50), ms(ttft, 95), ms(ttft, 100)),
             ("queue wait", ms(wait, 50), ms(wait, 95), ms(wait, 100)),
             ("total per answer", ms(total, 50), ms(total, 95), ms(total, 100))]
    summary = {"sessions": args.sessions, "questions_per_session": args.questions,
               "workers": args.workers, "answers": len(ok), "errors": len(errors),
               "refused": sum(1 for r in ok if r.get("refused")),
               "max_place_in_line": max(places, default=0), "wall_s": round(wall, 1),
               "answers_per_minute": round(len(ok) / wall * 60, 1) if wall else 0,
               "ttft_p50_ms": ms(ttft, 50), "ttft_p95_ms": ms(ttft, 95),
               "queue_wait_p50_ms": ms(wait, 50), "queue_wait_p95_ms": ms(wait, 95),
               "error_messages": sorted({r["error"] for r in errors})[:5],
               "target": "all sessions complete without an error"}
    report("concurrency", table, ("measure (ms)", "p50", "p95", "max"), summary)
    print(json.dumps(summary))
    if errors:
        raise SystemExit(f"{len(errors)} of {len(rows)} answers failed")


if __name__ == "__main__":
    main()
