"""Cold start-up: each command's wall time in a fresh process, median of --runs.

    python benchmarks/startup.py [--runs 5] [--serve-runs 3] [--data-dir DIR] [--no-serve]
                                 [--before /tmp/base]

Without --data-dir it prepares one in a temp dir: `appliance init`, then samples/handbook
ingested. The first `search` after that is reported on its own line: a data dir from an
earlier version builds its caches there (the query graph's tokenizer, the embedder's
description), so that run may be slow; every later run reuses them. Then each command runs
--runs times, each in a new process: `appliance --help`, `docs list`, `search "annual leave
days"`, and `ask --json` with a handbook question. For `ask` the generation time is the
answer's own timings (total − retrieve: prompt, generation, output redaction, answer check),
and the overhead is wall − generation. `serve` is the time from starting `appliance serve`
(one worker) to the first complete answer of /v1/chat/completions: it waits for /readyz as a
load balancer would, then asks the same question with an API token; its start-up part is
that time less the answer's generation.

`--before TREE` times another checkout too (e.g. `git worktree add /tmp/base HEAD` for the
commit before a change), on the same data dir, alternating with this one run by run, so a
busy box slows both alike. Commands run as `python -m appliance` with the checkout as working
directory and PYTHONPATH, bytecode caching on as in an installed package, after one untimed
run each.

Targets (issue "start-up"): search ≤ 2 s; ask ≤ generation + 2 s; serve: the first answer's
start-up part no slower than before (generation time swings with the box's load, so the
target compares what start-up changes; the raw figure is printed too).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import ROOT, report

QUERY = "annual leave days"
QUESTION = "How many days of annual leave do employees get?"
USER, GROUP = "startup-bench", "startup-bench"
COMMANDS = {"--help": ("--help",), "docs list": ("docs", "list"), "search": ("search", QUERY),
            "ask": ("ask", "--json", QUESTION)}


def child_env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("APPLIANCE_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(tree), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def appliance(data: Path | None, *args: str) -> list[str]:
    head = [sys.executable, "-m", "appliance"] + (["--data-dir", str(data)] if data else [])
    return head + list(args)


def timed(tree: Path, cmd: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one fresh process; fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=child_env(tree), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} in {tree} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def prepare(data: Path) -> None:
    """init and the sample handbook, when the data dir has no store yet."""
    if not (data / "appliance.db").exists():
        timed(ROOT, appliance(data, "init"))
        timed(ROOT, appliance(data, "ingest", str(ROOT / "samples" / "handbook")))


def api_token(data: Path) -> str:
    """A fresh API token for a user who reads the default collection (made when missing)."""
    from appliance.accounts import Principal
    from appliance.errors import ApplianceError
    from appliance.services import build_services
    from appliance.settings import load_settings

    app = build_services(load_settings({"data_dir": str(data)}, environ={}))
    try:
        access = app.accounts.access
        try:
            access.create_group(None, GROUP)
            access.set_grant(None, GROUP, app.settings.default_collection, "read")
        except ApplianceError:
            pass  # made by an earlier run
        try:
            info, _ = app.accounts.create_user(None, USER, "user", None, (GROUP,))
        except ApplianceError:
            info = app.accounts.user(USER)
        me = Principal(info.id, USER, "user", "cli")
        for token in app.accounts.tokens.list(info.id):
            if token.revoked_at is None:
                app.accounts.tokens.revoke(me, token.id)
        return app.accounts.tokens.create(me, "startup benchmark")[0]
    finally:
        app.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_once(tree: Path, data: Path, token: str) -> tuple[float, float, float]:
    """(s to /readyz 200, s to the first complete answer, that answer's generation s)."""
    import requests

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data / "startup-serve.log").open("wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen(appliance(data, "serve", "--port", str(port), "--workers", "1"),
                            cwd=tree, env=child_env(tree), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None or time.perf_counter() - t0 > 300:
                raise SystemExit("serve did not become ready: see " + log.name)
            try:
                if requests.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        ready = time.perf_counter() - t0
        body = {"model": "appliance", "messages": [{"role": "user", "content": QUESTION}]}
        response = requests.post(url + "/v1/chat/completions", json=body, timeout=300,
                                 headers={"Authorization": f"Bearer {token}"})
        answered = time.perf_counter() - t0
        response.raise_for_status()
        timings = response.json()["appliance"]["timings_ms"]
        return ready, answered, (timings["total"] - timings["retrieve"]) / 1000
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def med(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else float("nan")


def measure(trees: dict[str, Path], data: Path, runs: int) -> dict:
    """Per tree and command: wall, CPU and (ask) generation seconds, runs interleaved."""
    out = {side: {name: {"wall": [], "cpu": [], "generation": []} for name in COMMANDS}
           for side in trees}
    for side, tree in trees.items():
        out[side]["first search"] = timed(tree, appliance(data, "search", QUERY))[0]
        for args in COMMANDS.values():  # untimed: bytecode and the OS file cache
            timed(tree, appliance(None if args == ("--help",) else data, *args))
    for _ in range(runs):
        for name, args in COMMANDS.items():
            for side, tree in trees.items():
                wall, cpu, stdout = timed(tree, appliance(None if name == "--help" else data,
                                                          *args))
                cell = out[side][name]
                cell["wall"].append(wall)
                cell["cpu"].append(cpu)
                if name == "ask":
                    t = json.loads(stdout)["timings_ms"]
                    cell["generation"].append((t["total"] - t["retrieve"]) / 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve-runs", type=int, default=3)
    parser.add_argument("--data-dir", help="use this data dir (a benchmark user is added)")
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument("--before", help="another checkout to time alongside (the baseline)")
    args = parser.parse_args()
    tmp = None if args.data_dir else tempfile.TemporaryDirectory(prefix="startup-")
    data = Path(args.data_dir or tmp.name).resolve()
    prepare(data)
    trees = {"after": ROOT} | ({"before": Path(args.before).resolve()} if args.before else {})
    got = measure(trees, data, args.runs)
    serve: dict[str, list[tuple[float, float, float]]] = {side: [] for side in trees}
    if not args.no_serve:
        token = api_token(data)
        for _ in range(args.serve_runs):
            for side, tree in trees.items():
                serve[side].append(serve_once(tree, data, token))

    def before(name: str, key: str = "wall") -> float | str:
        return med(got["before"][name][key]) if "before" in got else "—"

    after = got["after"]
    gen = med(after["ask"]["generation"])
    rows = [("first search after ingest", "—" if "before" not in got else
             round(got["before"]["first search"], 2), round(after["first search"], 2), "—",
             "(builds caches once)", "—")]
    for name in COMMANDS:
        target = {"search": 2.0, "ask": gen + 2.0}.get(name)
        wall = med(after[name]["wall"])
        rows.append((name, before(name), wall, med(after[name]["cpu"]),
                     f"≤ {target:.2f} s" if target else "—",
                     "—" if target is None else ("met" if wall <= target else "NOT met")))
    overhead = {side: [w - g for w, g in zip(c["ask"]["wall"], c["ask"]["generation"])]
                for side, c in got.items()}
    rows.append(("  ask generation (total − retrieve)", before("ask", "generation"), gen, "—",
                 "—", "—"))
    rows.append(("  ask overhead (wall − generation)",
                 med(overhead["before"]) if "before" in got else "—", med(overhead["after"]),
                 "—", "≤ 2.00 s", "met" if med(overhead["after"]) <= 2.0 else "NOT met"))
    if not args.no_serve:
        part = {side: [a - g for _, a, g in runs] for side, runs in serve.items()}
        old = med(part["before"]) if "before" in part else None
        rows += [("serve → /readyz", med([r[0] for r in serve.get("before", [])]) if old else
                  "—", med([r[0] for r in serve["after"]]), "—", "—", "—"),
                 ("serve → first answer", med([r[1] for r in serve.get("before", [])]) if old
                  else "—", med([r[1] for r in serve["after"]]), "—", "—", "—"),
                 ("  of which start-up (less generation)", old if old else "—",
                  med(part["after"]), "—", "≤ before" if old else "≤ before (no --before)",
                  "—" if old is None else ("met" if med(part["after"]) <= old else "NOT met"))]
    extra = {"runs": args.runs, "raw": got, "serve_runs_s": serve, "trees": {
        side: str(tree) for side, tree in trees.items()}, "load_average": os.getloadavg()}
    report("startup", rows, ("command (fresh process)", "before_s", "after_s", "after_cpu_s",
                             "target", "met"), extra)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
