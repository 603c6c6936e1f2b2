"""What differs between SQLite and PostgreSQL for the audit tables: locking, placeholders, streaming.

Appends are serialised by one database-wide write lock: BEGIN IMMEDIATE on SQLite, a
transaction-level advisory lock on PostgreSQL. Both are released by COMMIT or ROLLBACK.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from ..errors import AuditError

# Any fixed 64-bit number works; this one spells "audit" so it is easy to spot in pg_locks.
PG_LOCK_KEY = 0x6175646974


class Dialect:
    """SQL helpers for one backend; SQL is written with ? placeholders."""

    name = ""
    triggers: tuple[str, ...] = ()
    list_triggers = ""

    def __init__(self, engine, read_engine=None):
        self.engine = engine
        self.read_engine = read_engine if read_engine is not None else engine

    def sql(self, text: str) -> str:
        return text

    def begin_locked(self, cur) -> None:
        raise NotImplementedError

    def begin_read(self, cur) -> None:
        """Start a read transaction so one scan sees one snapshot."""

    def stream_cursor(self, conn):
        return conn.cursor()

    def insert_ignore(self, table: str, columns: tuple[str, ...], conflict: str) -> str:
        raise NotImplementedError

    @contextmanager
    def locked(self, durable: bool = False) -> Iterator[Any]:
        """A cursor inside a transaction that holds the audit write lock; commits on success."""
        conn = self.engine.raw_connection()
        try:
            cur = conn.cursor()
            self._before(cur, durable)
            self.begin_locked(cur)
            try:
                yield cur
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            finally:
                self._after(cur, durable)
                cur.close()
        finally:
            conn.close()

    @contextmanager
    def reading(self, replica: bool = False) -> Iterator[Any]:
        """A connection for reads; always rolled back. `replica`: the read engine (a
        streaming standby when database_read_url names one) for reads that tolerate lag."""
        conn = (self.read_engine if replica else self.engine).raw_connection()
        try:
            yield conn
        finally:
            try:
                conn.rollback()
            finally:
                conn.close()

    def missing_triggers(self) -> list[str]:
        """Immutability triggers (from migration 0002_audit) missing or disabled in the database."""
        with self.reading() as conn:
            cur = conn.cursor()
            cur.execute(self.list_triggers)
            present = {row[0] for row in cur.fetchall()}
        return [name for name in self.triggers if name not in present]

    def _before(self, cur, durable: bool) -> None:
        pass

    def _after(self, cur, durable: bool) -> None:
        pass


class SqliteDialect(Dialect):
    name = "sqlite"
    triggers = ("audit_events_chain", "audit_events_no_update", "audit_events_guarded_delete",
                "audit_checkpoints_no_update", "audit_checkpoints_no_delete",
                "audit_anchors_no_update", "audit_anchors_no_delete", "audit_prune_guard_anchored")
    list_triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger'"

    def begin_locked(self, cur) -> None:
        if cur.connection.in_transaction:
            cur.connection.rollback()
        cur.execute("BEGIN IMMEDIATE")

    def begin_read(self, cur) -> None:
        if not cur.connection.in_transaction:
            cur.execute("BEGIN")

    def insert_ignore(self, table, columns, conflict):
        marks = ", ".join("?" * len(columns))
        return f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({marks})"

    def _before(self, cur, durable):
        # The store runs synchronous=NORMAL; a checkpoint commit syncs the WAL so that a
        # power cut cannot lose events an external checkpoint already vouches for.
        if durable:
            cur.execute("PRAGMA synchronous")
            self._synchronous = cur.fetchone()[0]
            cur.execute("PRAGMA synchronous=FULL")

    def _after(self, cur, durable):
        if durable:
            cur.execute(f"PRAGMA synchronous={int(self._synchronous)}")


class PostgresDialect(Dialect):
    name = "postgresql"
    triggers = ("audit_events_chain", "audit_events_no_update", "audit_events_guarded_delete",
                "audit_events_no_truncate", "audit_checkpoints_no_change",
                "audit_checkpoints_no_truncate", "audit_anchors_no_change",
                "audit_anchors_no_truncate", "audit_prune_guard_anchored")
    list_triggers = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def begin_locked(self, cur) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (PG_LOCK_KEY,))

    def begin_read(self, cur) -> None:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")

    def stream_cursor(self, conn):
        cur = conn.cursor(name="audit_stream")  # server-side: rows stream, memory stays flat
        cur.itersize = 5000
        return cur

    def insert_ignore(self, table, columns, conflict):
        marks = ", ".join(["%s"] * len(columns))
        return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
                f"ON CONFLICT ({conflict}) DO NOTHING")


def dialect_for(engine, read_engine=None) -> Dialect:
    name = engine.dialect.name
    if name == "sqlite":
        return SqliteDialect(engine, read_engine)
    if name == "postgresql":
        return PostgresDialect(engine, read_engine)
    raise AuditError(f"the audit log supports SQLite and PostgreSQL, not {name}")
