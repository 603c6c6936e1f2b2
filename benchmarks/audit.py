"""Audit log speed: appends/s (1 and 4 processes) and verified events/s, SQLite and PostgreSQL.

    python benchmarks/audit.py [--appends 5000] [--verify-events 200000] [--no-postgres]
                               [--json benchmarks/results/audit.json]

Targets (issue 5): append >= 2,000 events/s on SQLite on 2 cores; verify >= 100,000 events/s.
PostgreSQL runs against 127.0.0.1:5432 (database appliance_audit_bench, dropped afterwards).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_DB = "appliance_audit_bench"
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"


def _settings(data_dir: str, database_url: str = ""):
    from appliance.settings import load_settings

    return load_settings({"data_dir": data_dir, "database_url": database_url}, environ={})


def _open(data_dir: str, database_url: str = ""):
    from appliance.audit import AuditLog, ensure_keys
    from appliance.store.db import Store

    Path(data_dir).mkdir(parents=True, exist_ok=True)
    settings = _settings(data_dir, database_url)
    store = Store(settings.db_url)
    store.migrate()
    ensure_keys(settings)
    return AuditLog(store, settings), store


def _record(log, n: int, actor: str) -> None:
    from appliance.audit import INGEST

    for i in range(n):
        log.record(INGEST, actor=actor, target=f"document:{i}", source="10.0.0.1",
                   request_id=f"r{i}", details={"document_id": i, "version": 1, "chunks": 12})


def bench_append(data_dir: str, url: str, n: int) -> float:
    log, store = _open(data_dir, url)
    start = time.perf_counter()
    _record(log, n, "bench")
    log.close()
    elapsed = time.perf_counter() - start
    store.dispose()
    return n / elapsed


def _worker(data_dir: str, url: str, n: int, name: str, go) -> None:
    log, store = _open(data_dir, url)
    go.wait(60)
    _record(log, n, name)
    log.close()
    store.dispose()


def bench_concurrent(data_dir: str, url: str, n_each: int, writers: int = 4) -> float:
    _open(data_dir, url)[1].dispose()
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    procs = [ctx.Process(target=_worker, args=(data_dir, url, n_each, f"w{k}", go))
             for k in range(writers)]
    for proc in procs:
        proc.start()
    time.sleep(1.0)
    start = time.perf_counter()
    go.set()
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - start
    log, store = _open(data_dir, url)
    result = log.verify(record=False)
    store.dispose()
    if not result.ok:
        raise SystemExit(f"concurrent chain does not verify: {result.message()}")
    return writers * n_each / elapsed


def bench_verify(data_dir: str, url: str, total: int) -> tuple[float, int]:
    from appliance.audit import INGEST, chain
    from appliance.audit.events import event_spec

    log, store = _open(data_dir, url)
    batch = 10_000
    for offset in range(0, total, batch):  # bulk fill: same chain code, big transactions
        specs = [event_spec(INGEST, actor=f"user{i % 50}", target=f"document:{i}",
                            source="10.0.0.1", request_id=f"r{i}",
                            details={"document_id": i, "version": 1, "chunks": 12})
                 for i in range(offset, min(total, offset + batch))]
        with log.dialect.locked() as cur:
            chain.append(cur, log.dialect, specs)
        if (offset // batch) % 10 == 0:
            log.checkpoint()
    log.checkpoint()
    start = time.perf_counter()
    result = log.verify(record=False)
    elapsed = time.perf_counter() - start
    store.dispose()
    if not result.ok:
        raise SystemExit(f"bench chain does not verify: {result.message()}")
    return result.count / elapsed, result.count


def _pg_reset(drop_only: bool = False) -> bool:
    try:
        import psycopg

        conn = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                               connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        print(f"PostgreSQL skipped: {exc}".strip(), file=sys.stderr)
        return False
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        if not drop_only:
            cur.execute(f"CREATE DATABASE {PG_DB}")
    conn.close()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=5000)
    parser.add_argument("--verify-events", type=int, default=200_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--json", default="benchmarks/results/audit.json")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("sqlite", "append, 1 process (events/s)",
                     bench_append(f"{tmp}/a", "", args.appends), ">= 2000"))
        rows.append(("sqlite", "append, 4 processes (events/s)",
                     bench_concurrent(f"{tmp}/b", "", args.appends // 4), ""))
        rate, count = bench_verify(f"{tmp}/c", "", args.verify_events)
        rows.append(("sqlite", f"verify {count} events (events/s)", rate, ">= 100000"))
        if not args.no_postgres and _pg_reset():
            try:
                rows.append(("postgresql", "append, 1 process (events/s)",
                             bench_append(f"{tmp}/d", PG_URL, args.appends), ""))
                _pg_reset()
                rows.append(("postgresql", "append, 4 processes (events/s)",
                             bench_concurrent(f"{tmp}/e", PG_URL, args.appends // 4), ""))
                _pg_reset()
                rate, count = bench_verify(f"{tmp}/f", PG_URL, args.verify_events)
                rows.append(("postgresql", f"verify {count} events (events/s)", rate, ""))
            finally:
                _pg_reset(drop_only=True)
    print(f"{'backend':<11} {'measure':<34} {'result':>10}  target")
    for backend, measure, value, target in rows:
        print(f"{backend:<11} {measure:<34} {value:>10,.0f}  {target}")
    report = {"python": platform.python_version(), "machine": platform.machine(),
              "cpus": mp.cpu_count(), "results": [
                  {"backend": b, "measure": m, "value": round(v, 1), "target": t}
                  for b, m, v, t in rows]}
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
