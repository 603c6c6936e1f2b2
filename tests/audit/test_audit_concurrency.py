"""4 processes x 1,000 concurrent appends leave one gapless chain that verifies."""
import multiprocessing as mp
import time

import pytest

from audit_fixtures import Env, make_settings

WRITERS, EACH = 4, 1000


def _writer(data_dir: str, database_url: str, name: str, go, done) -> None:
    from appliance.audit import INGEST, AuditLog
    from appliance.store.db import Store

    settings = make_settings(data_dir, database_url=database_url, audit_checkpoint_every=250)
    store = Store(settings.db_url)
    log = AuditLog(store, settings)
    go.wait(60)
    for i in range(EACH):
        log.record(INGEST, actor=name, target=f"document:{i}", details={"n": i})
    log.close()
    store.dispose()
    done.put(name)


def _run(tmp_path, database_url: str = "") -> None:
    env = Env(tmp_path / "data", database_url=database_url)
    ctx = mp.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(env.data_dir), database_url, f"w{n}", go, done))
             for n in range(WRITERS)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)  # let every writer import and connect, then start them together
    go.set()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert sorted(done.get(timeout=5) for _ in procs) == [f"w{n}" for n in range(WRITERS)]
    log = env.log()
    rows = list(log.events())
    assert [r.seq for r in rows] == list(range(1, WRITERS * EACH + 1))  # no gap, no fork
    for n in range(WRITERS):
        mine = [r for r in rows if r.actor == f"w{n}"]
        assert [r.details_obj()["n"] for r in mine] == list(range(EACH))
    interleaved = sum(1 for a, b in zip(rows, rows[1:]) if a.actor != b.actor)
    assert interleaved > WRITERS  # the writers really did run at the same time
    result = log.verify(record=False)
    assert result.ok and result.count == WRITERS * EACH, result.message()
    env.close()


def test_concurrent_appends_sqlite(tmp_path):
    _run(tmp_path)


@pytest.mark.postgres
def test_concurrent_appends_postgres(tmp_path, pg_url):
    _run(tmp_path, pg_url)
