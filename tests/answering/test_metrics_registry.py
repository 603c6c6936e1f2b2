"""The metrics registry (prometheus_client): names and values, separate instances, and the
multiprocess mode `appliance serve` uses, with real processes standing in for gunicorn workers."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

from appliance.answering.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
WORKER = textwrap.dedent("""
    import os, sys
    from appliance.answering.metrics import Metrics

    m = Metrics()
    m.gauge("appliance_queue_waiting", "Questions waiting for the model now.", lambda: {waiting})
    for _ in range({asks}):
        m.asks.inc(outcome="answered")
    m.queue_wait.observe(0.3)
    sys.stdout.write(m.render() if {scrape} else str(os.getpid()))
""")


def _series(text: str, name: str) -> dict[str, float]:
    """{label text: value} of one metric, as a scraper reads the exposition."""
    return {m.group(1): float(m.group(2))
            for m in re.finditer(rf"^{name}\{{(.*)\}} (\S+)$", text, re.M)}


def _process(tmp_path: Path, asks: int, waiting: int, scrape: bool = False) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = WORKER.format(asks=asks, waiting=waiting, scrape=scrape)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=60)
    return done.stdout


def test_metrics_render_names_and_counted_values():
    m = Metrics()
    m.gauge("appliance_queue_waiting", "Questions waiting for the model now.", lambda: 2)
    m.asks.inc(outcome="answered")
    m.asks.inc(outcome="answered")
    m.http_requests.inc(endpoint="chat.ask", method="POST", status="200")
    m.first_token.observe(1.5)
    text = m.render()
    pid = os.getpid()
    assert f'appliance_asks_total{{outcome="answered",worker="{pid}"}} 2.0' in text.splitlines()
    assert _series(text, "appliance_http_requests_total") == {
        f'endpoint="chat.ask",method="POST",status="200",worker="{pid}"': 1.0}
    assert _series(text, "appliance_queue_waiting") == {f'worker="{pid}"': 2.0}
    first = _series(text, "appliance_time_to_first_token_seconds_bucket")
    assert first[f'le="1.0",worker="{pid}"'] == 0 and first[f'le="2.0",worker="{pid}"'] == 1
    assert _series(text, "appliance_queue_wait_seconds_count") == {f'worker="{pid}"': 0.0}
    assert "# TYPE appliance_answer_seconds histogram" in text and "_created" not in text
    assert m.asks.value(outcome="answered") == 2 and m.asks.value(outcome="error") == 0
    assert m.first_token.count == 1 and m.answer_time.count == 0


def test_two_registries_in_one_process_do_not_clash():
    a, b = Metrics(), Metrics()
    for m in (a, b):  # the same names twice: each instance has a registry of its own
        m.gauge("appliance_generations_running", "Answers being generated now.", lambda: 0)
    a.asks.inc(outcome="refused")
    assert a.asks.value(outcome="refused") == 1 and b.asks.value(outcome="refused") == 0
    assert "appliance_asks_total{" in a.render() and "appliance_asks_total{" not in b.render()


def test_one_scrape_shows_every_worker_and_dead_workers_lose_their_gauges(tmp_path, monkeypatch):
    from appliance.cli.serve import child_exit

    first = _process(tmp_path, asks=3, waiting=1)
    second = _process(tmp_path, asks=5, waiting=2)
    text = _process(tmp_path, asks=0, waiting=0, scrape=True)  # the worker the scrape reached
    asks = _series(text, "appliance_asks_total")
    assert asks == {f'outcome="answered",worker="{first}"': 3.0,
                    f'outcome="answered",worker="{second}"': 5.0}
    waiting = _series(text, "appliance_queue_waiting")
    assert waiting[f'worker="{first}"'] == 1 and waiting[f'worker="{second}"'] == 2
    assert len(waiting) == 3  # and the scraped worker's own
    assert _series(text, "appliance_queue_wait_seconds_count")[f'worker="{first}"'] == 1
    assert text.count("# TYPE appliance_asks_total counter") == 1

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    child_exit(None, SimpleNamespace(pid=int(first)))  # gunicorn's hook, in the master
    text = _process(tmp_path, asks=0, waiting=0, scrape=True)
    waiting = _series(text, "appliance_queue_waiting")
    assert f'worker="{first}"' not in waiting and waiting[f'worker="{second}"'] == 2
    # Its totals stay: a counter never goes back.
    assert _series(text, "appliance_asks_total")[f'outcome="answered",worker="{first}"'] == 3


def test_a_worker_keeps_its_gauges_fresh_between_scrapes(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = ("import time; from appliance.answering.metrics import Metrics\n"
            "now = [4]; m = Metrics()\n"
            "m.gauge('appliance_generations_running', 'Running.', lambda: now[0])\n"
            "now[0] = 0; time.sleep(2.5)")  # the last answer ended; no scrape came here
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, timeout=60)
    text = _process(tmp_path, asks=0, waiting=0, scrape=True)
    assert set(_series(text, "appliance_generations_running").values()) == {0.0}


def test_serve_starts_with_an_empty_metrics_dir(tmp_path, monkeypatch):
    from appliance.cli.serve import prepare_metrics_dir

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored after the test
    stale = tmp_path / "run" / "metrics" / "counter_1.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old run")
    path = prepare_metrics_dir(tmp_path)
    assert path == stale.parent and list(path.iterdir()) == []
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(path)


def test_the_cli_and_the_app_do_not_import_prometheus_client_before_serve():
    code = ("import sys; import appliance.cli as c; c.build_parser(); "
            "import appliance.services, appliance.answering, appliance.app; "
            "print('prometheus_client' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False"
