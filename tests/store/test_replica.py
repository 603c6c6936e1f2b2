"""The store on a primary with a streaming standby (tests/pgcluster.py): libpq's multi-host
URL finds the writable host, reads that tolerate lag go to the standby (database_read_url),
and when the standby is away those reads fall back to the primary."""
import json

import pytest
from sqlalchemy import text

from appliance.store.db import driver_url
from helpers import make_settings
from pgcluster import Pair, free_port

pytestmark = pytest.mark.postgres


def test_a_multi_host_url_is_spelled_for_sqlalchemy_and_asks_for_the_writable_host():
    url = driver_url("postgresql://app:pw@db-1:5432,db-2:5433/appliance?sslmode=require")
    assert url == ("postgresql+psycopg://app:pw@/appliance?host=db-1:5432&host=db-2:5433"
                   "&target_session_attrs=read-write&sslmode=require")
    kept = driver_url("postgresql://db-2:5432,db-1:5432/a?target_session_attrs=any")
    assert kept.endswith("?host=db-2:5432&host=db-1:5432&target_session_attrs=any")
    assert driver_url("postgresql://db-1/a") == "postgresql+psycopg://db-1/a"


@pytest.fixture(scope="module")
def pair():
    pair = Pair((free_port(), free_port())).start()
    pair.primary.sql("CREATE DATABASE appliance")
    yield pair
    pair.close()


def test_writes_go_to_the_primary_and_lagging_reads_to_the_standby(pair, tmp_path):
    from appliance.services import build_services

    # The standby is listed first: without target_session_attrs=read-write the writes
    # would land on it and fail.
    write_url = (f"postgresql://postgres@127.0.0.1:{pair.standby.port},"
                 f"127.0.0.1:{pair.primary.port}/appliance")
    read_url = (f"postgresql://postgres@127.0.0.1:{pair.standby.port},"
                f"127.0.0.1:{pair.primary.port}/appliance?target_session_attrs=any")
    app = build_services(make_settings(tmp_path / "data", database_url=write_url,
                                       database_read_url=read_url))
    try:
        with app.store.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False
        with app.store.read_engine.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        folder = tmp_path / "docs"
        folder.mkdir()
        app.sources.add(str(folder), "default")
        for n in range(5):
            app.audit.record("audit.verify", actor=f"tester{n}", details={"count": n})
        manifest = app.audit.export("jsonl", tmp_path / "export", actor="tester")
        exported = (tmp_path / "export" / "events.jsonl").read_text().splitlines()
        assert manifest["count"] == len(exported) >= 5  # read from the standby, complete
        assert [json.loads(line)["actor"] for line in exported][-5:] == \
            [f"tester{n}" for n in range(5)]
        assert "appliance_source_staleness_seconds" in app.metrics.render()
        from sqlalchemy import event

        from appliance.accounts.login import Principal
        from appliance.audit.oversight import AuditFilter

        on_standby = []
        event.listen(app.store.read_engine, "before_cursor_execute",
                     lambda *a, **k: on_standby.append(1))
        auditor = Principal(1, "ivan", "auditor", "session")
        rows = app.oversight.events(auditor, AuditFilter(type="audit.verify"))
        assert [r.actor for r in rows][:5] == [f"tester{n}" for n in reversed(range(5))]
        assert on_standby  # the compliance officer's browsing read the standby

        # The standby goes away for long: the documented step keeps the primary writable
        # (commits no longer wait for a synchronous standby) …
        pair.primary.sql("ALTER SYSTEM SET synchronous_standby_names = ''")
        pair.primary.sql("SELECT pg_reload_conf()")
        pair.standby.stop("fast")  # … and lagging reads fall back to the primary
        app.store.read_engine.dispose()
        assert "appliance_source_pending_changes" in app.metrics.render()
        again = app.audit.export("jsonl", tmp_path / "export2", actor="tester")
        assert again["count"] >= manifest["count"]
    finally:
        app.close()
        if not pair.standby.running():
            pair.standby.start()
        pair.primary.sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        pair.primary.sql("SELECT pg_reload_conf()")
