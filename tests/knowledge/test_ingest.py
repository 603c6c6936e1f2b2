"""Ingest with the real embedder, real FAISS files and a real SQLite store."""
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from appliance.store.tables import ChunkTable, DocumentTable, IngestJobTable

pytestmark = pytest.mark.slow


def counts(app):
    with app.store.session() as sess:
        return (sess.scalar(select(func.count(DocumentTable.id))),
                sess.scalar(select(func.count(ChunkTable.id))))


def top_doc(app, query):
    return app.retriever.search(query, k=1).hits[0]


def test_ingests_every_sample_format_with_pages_and_sections(app_factory, samples_copy):
    app = app_factory()
    report = app.ingest.ingest_paths([samples_copy], progress=False)
    assert sorted(f.status for f in report.files) == ["added"] * 4
    assert app.indexes.check().ok
    with app.store.session() as sess:
        pdf_pages = set(sess.scalars(select(ChunkTable.page).join(DocumentTable)
                                     .where(DocumentTable.name == "hr-leave-policy.pdf")))
        md_sections = set(sess.scalars(select(ChunkTable.section).join(DocumentTable)
                                       .where(DocumentTable.name == "it-security-policy.md")))
    assert {1, 2, 3} <= pdf_pages
    assert any(s and "Password" in s for s in md_sections)
    hit = top_doc(app, "how many characters must a password have")
    assert hit.doc_name == "it-security-policy.md" and "14" in hit.text
    hit = top_doc(app, "maternity leave length in weeks")
    assert hit.doc_name == "hr-leave-policy.pdf" and hit.page == 3


def test_identical_files_are_deduplicated(app_factory, samples_copy):
    app = app_factory()
    app.ingest.ingest_paths([samples_copy], progress=False)
    before = counts(app)
    again = app.ingest.ingest_paths([samples_copy], progress=False)
    assert {f.status for f in again.files} == {"unchanged"}
    copy = samples_copy / "copy-of-policy.md"
    copy.write_bytes((samples_copy / "it-security-policy.md").read_bytes())
    dup = app.ingest.ingest_paths([copy], progress=False).files[0]
    assert dup.status == "duplicate" and "it-security-policy.md" in dup.error
    assert counts(app) == before


def test_identical_files_in_one_run_are_stored_once(app_factory, tmp_path):
    app = app_factory()
    src = tmp_path / "batch"
    src.mkdir()
    text = "# Parking\n\nStaff park in zone C after 18:00.\n"
    (src / "a-parking.md").write_text(text)
    (src / "b-parking-copy.md").write_text(text)
    (src / "c-other.md").write_text("# Canteen\n\nSoup is served from noon.\n")
    report = app.ingest.ingest_paths([src], progress=False)
    status = {f.name: f.status for f in report.files}
    assert status == {"a-parking.md": "added", "b-parking-copy.md": "duplicate",
                      "c-other.md": "added"}
    assert "a-parking.md" in next(f.error for f in report.files if f.status == "duplicate")
    with app.store.session() as sess:
        assert sorted(sess.scalars(select(DocumentTable.name))) == ["a-parking.md", "c-other.md"]
    assert top_doc(app, "where do staff park in the evening").doc_name == "a-parking.md"


def test_changed_file_replaces_its_chunks(app_factory, tmp_path):
    app = app_factory()
    doc = tmp_path / "canteen.md"
    doc.write_text("# Canteen\n\nThe canteen opens at 7:15 every weekday.\n")
    first = app.ingest.ingest_paths([doc], progress=False).files[0]
    doc.write_text("# Canteen\n\nThe canteen opens at 8:40 every weekday.\n")
    second = app.ingest.ingest_paths([doc], progress=False).files[0]
    assert (second.status, second.doc_id, second.version) == ("updated", first.doc_id, 2)
    hits = app.retriever.search("when does the canteen open", k=5).hits
    texts = " ".join(h.text for h in hits)
    assert "8:40" in texts and "7:15" not in texts
    assert all(h.doc_version == 2 for h in hits)
    assert app.indexes.check().ok and counts(app) == (1, 1)


def test_delete_removes_vectors_and_keywords(app_factory, samples_copy):
    app = app_factory()
    app.ingest.ingest_paths([samples_copy], progress=False)
    doc_id = top_doc(app, "security hotline extension").doc_id
    name = app.ingest.delete(doc_id)
    assert name == "incident-response-procedure.docx"
    hits = app.retriever.search("security hotline extension 4455", k=10).hits
    assert all(h.doc_id != doc_id for h in hits)
    assert doc_id not in {h.doc_id for h in
                          app.retriever.search("CISO Priya Raman", k=50, candidates=500).hits}
    report = app.indexes.check()
    assert report.ok and report.store_chunks == report.vector_ids == report.keyword_ids


@pytest.mark.parametrize("name,data,message", [
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "broken.pdf"),
    ("empty.md", b"", "empty"),
    ("tool.exe", b"MZ\x90\x00", "unsupported file type"),
    ("big.txt", b"word " * 5000, "over the limit"),
])
def test_bad_input_changes_nothing(app_factory, samples_copy, tmp_path, name, data, message):
    app = app_factory(max_file_bytes=20_000)
    app.ingest.ingest_paths([samples_copy / "it-security-policy.md"], progress=False)
    before = counts(app)
    bad = tmp_path / name
    bad.write_bytes(data)
    report = app.ingest.ingest_paths([bad], progress=False)
    assert report.files[0].status == "failed" and message in report.files[0].error
    assert counts(app) == before and app.indexes.check().ok


def test_cli_reports_bad_file_and_exits_nonzero(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf")
    out = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(tmp_path / "d"),
                          "ingest", str(bad)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "failed" in out.stdout and "not a PDF" in out.stdout
    assert "Traceback" not in out.stderr


def test_reconcile_repairs_lost_index_files(app_factory, samples_copy, tmp_path):
    data = tmp_path / "d"
    app = app_factory(data)
    app.ingest.ingest_paths([samples_copy], progress=False)
    (data / "index" / "vectors.faiss").unlink()
    fresh = app_factory(data)
    assert fresh.indexes.check().ok
    assert top_doc(fresh, "USB drives must be encrypted").doc_name == "it-security-policy.md"


def test_killed_ingest_leaves_store_and_indexes_consistent(app_factory, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(400):
        (corpus / f"note-{i:03}.md").write_text(
            f"# Ward note {i}\n\n" + " ".join(f"Patient flow item {i} step {j}." for j in range(60)))
    data = tmp_path / "d"
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "--data-dir", str(data),
                             "ingest", str(corpus)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    app = None
    deadline = time.time() + 240
    while time.time() < deadline:  # wait until some groups have committed, then kill
        time.sleep(0.5)
        if (data / "appliance.db").exists():
            probe = app or app_factory(data, hnsw_threshold=50_000)
            app = probe
            with probe.store.session() as sess:
                if sess.scalar(select(func.count(DocumentTable.id))) >= 30:
                    break
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = app_factory(data)
    report = after.indexes.check()
    assert report.ok, vars(report)
    with after.store.session() as sess:
        docs = sess.scalars(select(DocumentTable)).all()
        assert 0 < len(docs) < 400
        for doc in docs:  # each document is whole: ordinals 0..n-1 with no gaps
            ordinals = sorted(c.ordinal for c in doc.chunks)
            assert ordinals == list(range(len(ordinals))) and ordinals
    # The next ingest marks the dead job and completes the rest.
    report = after.ingest.ingest_paths([corpus], progress=False)
    assert not report.failed
    with after.store.session() as sess:
        statuses = [j.status for j in sess.scalars(select(IngestJobTable)
                                                    .order_by(IngestJobTable.id))]
        assert statuses[0] == "interrupted" and statuses[-1] == "done"
        assert sess.scalar(select(func.count(DocumentTable.id))) == 400
    assert after.indexes.check().ok


def test_reindex_rebuilds_from_the_store(app_factory, samples_copy):
    app = app_factory()
    app.ingest.ingest_paths([samples_copy], progress=False)
    before = app.retriever.search("annual leave days", k=3).hits
    with app.indexes.write_lock():
        n = app.indexes.rebuild_all()
    assert n == counts(app)[1]
    after = app.retriever.search("annual leave days", k=3).hits
    assert [h.chunk_id for h in before] == [h.chunk_id for h in after]
