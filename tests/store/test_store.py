
import pytest
from sqlalchemy import inspect, select, text

from appliance.store import Store
from appliance.store.tables import ChunkTable, DocumentTable



def _roundtrip(store: Store) -> None:
    store.migrate()
    store.migrate()  # idempotent
    names = set(inspect(store.engine).get_table_names())
    assert {"documents", "chunks", "ingest_jobs", "alembic_version"} <= names
    with store.session() as sess:
        doc = DocumentTable(name="a.md", collection="c", sha256="0" * 64, version=1,
                            mime_type="text/markdown", size_bytes=3)
        sess.add(doc)
        sess.flush()
        sess.add(ChunkTable(document_id=doc.id, document_version=1, ordinal=0, text="hello",
                            page=None, section="S", token_count=1, embedding=b"\x00" * 8))
    with store.session() as sess:
        doc = sess.scalars(select(DocumentTable)).one()
        assert doc.chunks[0].text == "hello"
        sess.delete(doc)
    with store.session() as sess:
        assert sess.scalars(select(ChunkTable)).all() == []  # chunks go with their document


def test_sqlite_store_uses_wal(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    _roundtrip(store)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_failed_transaction_leaves_nothing(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.migrate()
    with pytest.raises(RuntimeError):
        with store.session() as sess:
            sess.add(DocumentTable(name="x", collection="c", sha256="1" * 64, version=1,
                                   mime_type="text/plain", size_bytes=1))
            sess.flush()
            raise RuntimeError("boom")
    with store.session() as sess:
        assert sess.scalars(select(DocumentTable)).all() == []


@pytest.mark.postgres
def test_postgres_store(pg_url):
    store = Store(pg_url)
    _roundtrip(store)
    store.dispose()


@pytest.mark.postgres
@pytest.mark.slow
def test_ingest_search_and_delete_on_postgres(pg_url, app_factory, samples_copy):
    """The whole ingest flow with PostgreSQL as the store (any SQLAlchemy URL works)."""
    app = app_factory(database_url=pg_url)
    assert app.store.engine.dialect.name == "postgresql"
    report = app.ingest.ingest_paths([samples_copy], progress=False)
    assert not report.failed and len(report.files) == 4
    hit = app.retriever.search("how many characters must a password have", k=1).hits[0]
    assert hit.doc_name == "it-security-policy.md"
    app.ingest.delete(hit.doc_id)
    assert app.indexes.check().ok
    assert all(h.doc_id != hit.doc_id for h in app.retriever.search("password", k=10).hits)
    assert app.audit.verify().ok
    app.close()


def test_a_store_at_head_is_not_migrated_again_and_an_old_one_is(tmp_path):
    """Start-up skips Alembic when the schema is current; it must still upgrade an old one."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from appliance.store.db import MIGRATIONS_DIR, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.migrate()
    with store.engine.begin() as conn:  # as a data dir of the previous release
        conn.execute(text("UPDATE alembic_version SET version_num = '0005_answer_calibration'"))
        conn.execute(text("ALTER TABLE messages DROP COLUMN path_reason"))
        conn.execute(text("ALTER TABLE messages DROP COLUMN path"))
        conn.execute(text("DROP TABLE answer_log"))
        conn.execute(text("DROP TABLE source_files"))
        conn.execute(text("DROP TABLE sources"))
        conn.execute(text("ALTER TABLE adapters DROP COLUMN erased_data"))
        conn.execute(text("DROP TABLE models"))
        conn.execute(text("ALTER TABLE users DROP COLUMN auth_source"))
        conn.execute(text("DROP TABLE index_nodes"))
        conn.execute(text("DROP TABLE index_changes"))
    assert not store._at_head()
    store.migrate()
    assert store._at_head()
    assert "path" in {c["name"] for c in inspect(store.engine).get_columns("messages")}
    assert "suggestion" in {c["name"] for c in inspect(store.engine).get_columns("answer_log")}
