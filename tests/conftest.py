"""Shared fixtures: offline models, a network guard, real embedder and model, temp data dirs."""
from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for key in [k for k in os.environ if k.startswith("APPLIANCE_")]:
    del os.environ[key]  # tests build their own settings

from helpers import SAMPLES, make_settings  # noqa: E402

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address) -> bool:
    if isinstance(address, (str, bytes)):
        return True  # unix socket
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if self.family != socket.AF_UNIX and not _allowed(address):
        raise AssertionError(f"test tried to reach the network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family != socket.AF_UNIX and not _allowed(address):
        raise AssertionError(f"test tried to reach the network: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Fail any connection beyond loopback."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The bundled GGUF assembled once per test session (checked against the manifest)."""
    from appliance.engines.model_files import assemble_generator
    from appliance.settings import load_settings

    base = tmp_path_factory.mktemp("models-data")
    settings = load_settings({"data_dir": str(base)}, environ={})
    return assemble_generator(settings).parent


@pytest.fixture(scope="session")
def embedder():
    from appliance.engines.embedder import SentenceEmbedder
    from appliance.settings import load_settings

    precision = load_settings(environ={}).query_precision  # the query graph users get
    return SentenceEmbedder(batch_size=16, threads=2, query_precision=precision)


@pytest.fixture
def app_factory(tmp_path, embedder):
    """Build Appliance objects on a temp data dir, sharing the session's loaded embedder."""
    from appliance.services import build_services

    made = []

    def make(data_dir: Path | None = None, **kw):
        app = build_services(make_settings(data_dir or tmp_path / "data", **kw))
        app.__dict__["embedder"] = embedder  # cached_property slot: reuse the loaded model
        made.append(app)
        return app

    yield make
    for app in made:
        app.close()


@pytest.fixture(scope="session")
def samples_app(tmp_path_factory, embedder, model_dir):
    """One data dir with the samples ingested and the real model, shared by read-only tests."""
    from appliance.services import build_services

    data = tmp_path_factory.mktemp("samples-data")
    app = build_services(make_settings(data, model_dir))
    app.__dict__["embedder"] = embedder
    report = app.ingest.ingest_paths([SAMPLES], progress=False)
    assert not report.failed, report.failed
    yield app
    app.close()


@pytest.fixture
def samples_copy(tmp_path) -> Path:
    dest = tmp_path / "samples"
    shutil.copytree(SAMPLES, dest, ignore=shutil.ignore_patterns("*.py", "README.md"))
    return dest


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test (skipped where no server answers)."""
    import uuid

    from sqlalchemy import create_engine, text

    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"appliance_test_{uuid.uuid4().hex[:8]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no PostgreSQL answers at 127.0.0.1:5432 ({exc.__class__.__name__})")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
