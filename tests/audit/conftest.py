"""Fixtures for the audit tests: a migrated store with keys, on SQLite or the local PostgreSQL."""
from __future__ import annotations

import pytest

from audit_fixtures import PG_DB, PG_URL, Env, pg_admin


@pytest.fixture
def pg_url():
    """A fresh, empty database appliance_audit_test on the local server (dropped afterwards)."""
    admin = pg_admin()
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {PG_DB}")
    yield PG_URL
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    admin.close()


@pytest.fixture
def sqlite_env(tmp_path):
    env = Env(tmp_path / "data")
    yield env
    env.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, tmp_path):
    """The same test on SQLite and on PostgreSQL."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    env = Env(tmp_path / "data", database_url=url)
    yield env
    env.close()
