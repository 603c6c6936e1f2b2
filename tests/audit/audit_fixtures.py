"""Helpers for the audit tests: a data dir with keys and a migrated store, PostgreSQL access."""
from __future__ import annotations

import pytest

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG_DB = "appliance_audit_test"
PG_URL = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"


def pg_admin():
    """An autocommit connection to the local server, or skip the test with the reason."""
    import psycopg

    try:
        conn = psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                               connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {PG_HOST}:{PG_PORT} ({exc})".strip())
    conn.autocommit = True
    return conn


def make_settings(data_dir, **overrides):
    from appliance.settings import load_settings

    return load_settings({"data_dir": str(data_dir), **overrides}, environ={})


class Env:
    """A data dir with keys and a migrated store; `log()` opens an AuditLog on it."""

    def __init__(self, data_dir, database_url: str = "", **overrides):
        from appliance.audit import ensure_keys
        from appliance.store.db import Store

        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.overrides = dict(overrides, database_url=database_url)
        self.settings = make_settings(data_dir, **self.overrides)
        self.store = Store(self.settings.db_url)
        self.store.migrate()
        self.key_id = ensure_keys(self.settings)
        self._logs = []

    @property
    def dialect(self) -> str:
        return self.store.engine.dialect.name

    def log(self, **overrides):
        from appliance.audit import AuditLog

        settings = make_settings(self.data_dir, **{**self.overrides, **overrides})
        log = AuditLog(self.store, settings)
        self._logs.append(log)
        return log

    def tamper(self, *statements: str) -> None:
        """Act as someone with direct database access: triggers off, then raw SQL."""
        raw = self.store.engine.raw_connection()
        try:
            cur = raw.cursor()
            if self.dialect == "sqlite":
                cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                for (name,) in cur.fetchall():
                    cur.execute(f"DROP TRIGGER {name}")
            else:
                for table in ("audit_events", "audit_checkpoints", "audit_anchors"):
                    cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for sql in statements:
                cur.execute(sql)
            raw.commit()
        finally:
            raw.close()

    def close(self) -> None:
        self.store.dispose()


def fill(log, n: int, start: int = 0) -> list[int]:
    from appliance.audit import INGEST

    return [log.record(INGEST, actor=f"user{i % 3}", target=f"document:{i}", source="10.0.0.7",
                       request_id=f"req-{i}", details={"document_id": i, "version": 1})
            for i in range(start, start + n)]
