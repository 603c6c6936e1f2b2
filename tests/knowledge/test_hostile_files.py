"""Issue 20, hostile input: every file of the hostile corpus through IngestService (and so the
extraction sandbox). Each file is read harmlessly or refused with its clear error; a refused file
leaves no document, chunk or index entry but a failure audit event; the bombs are refused in
seconds; and the parsing happens in the child, so this process's peak memory barely moves."""
from __future__ import annotations

import json
import re
import resource
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appliance.knowledge.extraction import printable
from appliance.store.tables import ChunkTable, DocumentTable
from helpers import make_settings

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "hostile"))
import make_corpus  # noqa: E402

pytestmark = pytest.mark.slow  # the real embedder (the house rule for this marker)

SECONDS_PER_FILE = 30  # every file, bombs included, is settled well inside this
RSS_GROWTH_MB = 100


@dataclass
class Result:
    status: str
    error: str | None
    kind: str | None
    text: str
    seconds: float


@dataclass
class Run:
    app: object
    corpus: dict
    results: dict[str, Result]
    rss_growth_mb: float
    seconds: float


def _stored_text(app, doc_id: int | None) -> str:
    if doc_id is None:
        return ""
    with app.store.session() as sess:
        return "\n".join(sess.scalars(select(ChunkTable.text).where(
            ChunkTable.document_id == doc_id).order_by(ChunkTable.ordinal)))


@pytest.fixture(scope="module")
def run(tmp_path_factory, embedder):
    from appliance.services import build_services

    corpus = make_corpus.build(tmp_path_factory.mktemp("hostile-corpus"))
    app = build_services(make_settings(tmp_path_factory.mktemp("hostile-data")))
    app.__dict__["embedder"] = embedder
    app.ingest.ingest_bytes("warm-up.md", b"# Warm up\n\nThe sandbox child starts here.\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results: dict[str, Result] = {}
    started = time.monotonic()
    for name, exp in corpus.items():
        if exp.upload_only:
            continue
        t0 = time.monotonic()
        outcome = app.ingest.ingest_bytes(name, exp.data)
        results[name] = Result(outcome.status, outcome.error, outcome.error_kind,
                               _stored_text(app, outcome.doc_id), time.monotonic() - t0)
    seconds = time.monotonic() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # KB on Linux
    yield Run(app, corpus, results, growth, seconds)
    app.close()


def _cases() -> list:
    cases = []
    for name in make_corpus.names(upload_only=False):
        bug = make_corpus.expectation(name).known_bug
        marks = [pytest.mark.xfail(strict=True, reason=f"product bug: {bug}")] if bug else []
        cases.append(pytest.param(name, id=ascii(name)[1:-1][:60], marks=marks))
    return cases


@pytest.mark.parametrize("name", _cases())
def test_each_file_is_read_harmlessly_or_refused_clearly(run, name):
    exp, got = run.corpus[name], run.results[name]
    assert got.seconds < SECONDS_PER_FILE, f"{name}: {got.seconds:.1f} s"
    for secret in exp.never:
        assert secret not in got.text and secret not in (got.error or ""), secret
    if got.status == "failed":
        assert exp.error, f"{name} was refused: {got.error}"
        assert got.error.startswith(f"{name}: "), got.error  # names the file
        assert re.search(exp.error, got.error, re.IGNORECASE), got.error
        assert "Traceback" not in got.error and len(got.error) < 500
        assert got.kind in ("RejectedFileError", "CorruptFileError", "EmptyFileError"), got.kind
    else:
        assert exp.text, f"{name} was {got.status}, expected an error /{exp.error}/"
        assert got.status == "added", (got.status, got.error)
        assert exp.text in " ".join(got.text.split()), got.text


def test_refused_files_leave_no_document_chunk_or_index_entry_but_an_audit_event(run):
    app, results = run.app, run.results
    # Names are kept without control characters (invoice<U+202E>fdp.md → invoicefdp.md).
    failed = {printable(n) for n, r in results.items() if r.status == "failed"}
    added = {printable(n) for n, r in results.items() if r.status == "added"}
    assert failed and added and failed | added == {printable(n) for n in results}
    with app.store.session() as sess:
        names = set(sess.scalars(select(DocumentTable.name)))
        chunks = sess.scalar(select(func.count(ChunkTable.id)))
        orphans = sess.scalar(select(func.count(ChunkTable.id)).where(
            ChunkTable.document_id.not_in(select(DocumentTable.id))))
    assert names == added | {"warm-up.md"}
    assert chunks > 0 and orphans == 0
    check = app.indexes.check()
    assert check.ok and check.store_chunks == check.vector_ids == chunks, check
    events = [e for e in app.audit.events() if e.type == "document.ingest"]
    failures = {e.target: json.loads(e.details) for e in events if e.outcome == "failure"}
    assert set(failures) == failed
    for name, result in results.items():
        if result.status == "failed":
            assert failures[printable(name)]["error"] == result.error
    successes = {json.loads(e.details)["name"] for e in events if e.outcome == "success"}
    assert successes == added | {"warm-up.md"}
    assert app.audit.verify(record=False).ok


def test_the_parsing_happens_in_the_child_not_in_this_process(run):
    print(f"\ncorpus: {len(run.results)} files in {run.seconds:.1f} s; this process's peak RSS "
          f"grew {run.rss_growth_mb:.0f} MB")
    for name, got in run.results.items():
        said = got.error or f"{got.status}: " + " ".join(got.text.split())[:60]
        print(f"  {got.seconds:6.2f} s  {ascii(name)[:50]:50} {said}")
    assert run.rss_growth_mb < RSS_GROWTH_MB
    # ...and the sandbox still reads an honest file after all of that
    outcome = run.app.ingest.ingest_bytes("after.md", b"# After\n\nThe corpus is done.\n")
    assert outcome.status == "added", outcome


def test_a_folder_file_name_is_stored_without_bidi_controls(run):
    """invoice<U+202E>fdp.md shows as "invoicedm.pdf" in a terminal or the documents page."""
    with run.app.store.session() as sess:
        names = list(sess.scalars(select(DocumentTable.name)))
    assert run.results["invoice\u202efdp.md"].status == "added"
    assert not [n for n in names if not n.isprintable()], names


def test_nothing_is_fetched_for_external_references(tmp_path):
    """Relationships, entities and a DTD that point at a listening loopback port: the child
    never connects (the conftest network guard cannot see into the child, this can)."""
    from appliance.knowledge.file_checks import Limits
    from appliance.knowledge.sandbox import Sandbox

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        url = "http://127.0.0.1:%d" % listener.getsockname()[1]
        late = "<!--" + "x" * (70 * 1024) + "-->"
        files = {
            "links.docx": make_corpus.external_relationships_docx(url + "/x"),
            "entity.docx": make_corpus.docx(make_corpus._doctype_document(
                f'<!DOCTYPE w:document SYSTEM "{url}/a.dtd" [<!ENTITY e SYSTEM "{url}/e">]>',
                "<w:p><w:r><w:t>Fetch &e; never.</w:t></w:r></w:p>", late)),
            "page.html": (f'<html><head><link rel="stylesheet" href="{url}/s.css"><script src='
                          f'"{url}/s.js"></script></head><body><p>A page with links.<img src='
                          f'"{url}/i.png"></p></body></html>').encode(),
        }
        box = Sandbox(Limits())
        try:
            outcomes = {}
            for name, data in files.items():
                try:
                    outcomes[name] = " ".join(b.text for b in box.extract(name, data))
                except Exception as exc:  # noqa: BLE001 - a clear refusal is fine here
                    outcomes[name] = f"refused: {exc}"
        finally:
            box.close()
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody called
    assert "The supplier portal is linked here" in outcomes["links.docx"], outcomes
    assert "A page with links." in outcomes["page.html"], outcomes
