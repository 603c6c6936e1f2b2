"""SQLAlchemy engine and sessions; SQLite in WAL mode by default, any SQLAlchemy URL works.

PostgreSQL goes through psycopg 3 (the `postgres` extra): a plain `postgresql://` URL is read
as `postgresql+psycopg://`, since SQLAlchemy would otherwise look for psycopg2."""
from __future__ import annotations

import fcntl
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def driver_url(url: str) -> str:
    """The URL with PostgreSQL's driver made explicit (psycopg 3) when none is named, and
    libpq's multi-host form spelled as SQLAlchemy reads it."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain):]
    return _multi_host(url) if url.startswith("postgresql") else url


def _multi_host(url: str) -> str:
    """`postgresql://u@h1:p1,h2:p2/db` (libpq: try each host in turn) becomes
    `postgresql+psycopg://u@/db?host=h1:p1&host=h2:p2`, and asks for the host that accepts
    writes (`target_session_attrs=read-write`) unless the URL says otherwise: after a
    failover, new connections find the promoted standby by themselves."""
    scheme, _, rest = url.partition("://")
    netloc, _, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return url
    path, _, query = tail.partition("?")
    params = [f"host={host}" for host in hosts.split(",")]
    if "target_session_attrs=" not in query:
        params.append("target_session_attrs=read-write")
    if query:
        params.append(query)
    return f"{scheme}://{userinfo}{at}/{path}?{'&'.join(params)}"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    url = driver_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA mmap_size=1073741824")
            cur.close()

        return engine
    # A dead server must fail a connection attempt in seconds, not the OS's minutes: the
    # next host of a multi-host URL is then tried, and /readyz answers promptly.
    connect = {} if "connect_timeout=" in url else {"connect_timeout": 5}
    return create_engine(url, pool_pre_ping=True, connect_args=connect)


def head_revision() -> str | None:
    """The newest migration: the one no other migration names as its parent."""
    revisions, parents = set(), set()
    for file in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = file.read_text()
        found = re.search(r'^revision\s*=\s*["\'](.+?)["\']', source, re.M)
        parent = re.search(r'^down_revision\s*=\s*["\'](.+?)["\']', source, re.M)
        if found:
            revisions.add(found.group(1))
        if parent:
            parents.add(parent.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


class Store:
    """Owns the engine and hands out sessions; `migrate()` brings the schema up to date."""

    def __init__(self, url: str, read_url: str = ""):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads that tolerate a replica's lag (database_read_url); the primary otherwise.
        self.read_engine = make_engine(read_url) if read_url else self.engine
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    def migrate(self) -> None:
        """Apply Alembic migrations up to head (a schema already at head is only read:
        Alembic itself takes a sixth of a second to import)."""
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        # Two processes starting at once (an ingest and a server, say) must not both find
        # the schema missing and both create it: one migrates, the other then sees it done.
        with self._file_lock(), self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7351962)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def _at_head(self) -> bool:
        try:
            with self.engine.connect() as conn:
                current = set(conn.execute(text("SELECT version_num FROM alembic_version"))
                              .scalars())
        except SQLAlchemyError:  # no schema yet
            return False
        return current == {head_revision()}

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """An exclusive lock beside a SQLite file (PostgreSQL locks in the transaction)."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.migrate-lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as sess:
            with sess.begin():
                yield sess

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads that may go to the streaming replica; never commits."""
        with self._read_sessions() as sess:
            try:
                yield sess
            finally:
                sess.rollback()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
