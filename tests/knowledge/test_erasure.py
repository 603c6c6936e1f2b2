"""Erasure with the real model, embedder, FAISS files and SQLite: after `erase --subject`
nothing in the appliance returns the subject, no file of the data dir holds its text, and the
signed report verifies (and a changed one does not)."""
import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from appliance.accounts.login import Principal
from appliance.errors import AuditError, InvalidRequest
from appliance.store import AdapterTable, AnswerLogTable, ConversationTable, MessageTable

pytestmark = pytest.mark.slow
SUBJECT = "QX4471ZB"  # a patient reference: an identifier the policy does not redact
DOC = (f"# Ward notes\n\nPatient reference {SUBJECT} was moved to ward 7 on Tuesday.\n\n"
       "Visiting hours on ward 7 are from 2 pm to 8 pm every day.\n")
OTHER = "# Canteen\n\nThe canteen opens at 7 am and closes at 7 pm.\n"


def traces(data_dir, needle: str) -> list[str]:
    """Files under the data dir whose bytes hold the needle (what `strings | grep` finds)."""
    found = []
    variants = {needle.encode(), needle.lower().encode(), needle.encode("utf-16-le")}
    for path in data_dir.rglob("*"):
        if path.is_file() and any(v in path.read_bytes() for v in variants):
            found.append(str(path.relative_to(data_dir)))
    return found


@pytest.fixture
def erasable(app_factory, model_dir, tmp_path):
    app = app_factory(tmp_path / "data", llm_model_path=str(next(model_dir.glob("*.gguf"))))
    app.accounts.create_user(None, "nurse", "user", "a-long-enough-passw0rd")
    app.accounts.access.create_group(None, "ward")
    app.accounts.access.set_grant(None, "ward", "default", "read")
    app.accounts.access.set_member(None, "ward", "nurse", True)
    assert app.ingest.ingest_bytes("ward-notes.md", DOC.encode()).status == "added"
    assert app.ingest.ingest_bytes("canteen.md", OTHER.encode()).status == "added"
    user = app.accounts.user("nurse")
    who = Principal(user.id, user.username, user.role, "cli")
    for _ in app.conversations.ask(who, f"Which ward is patient {SUBJECT} on?"):
        pass
    for _ in app.conversations.ask(who, "When does the canteen open?"):
        pass
    # a prepared training set holding the subject, and the adapter trained on it (serving)
    folder = tmp_path / "data" / "tuning" / "datasets" / "ward"
    folder.mkdir(parents=True)
    lines = [{"prompt": f"Where is {SUBJECT}?", "completion": "Ward 7 [1]"},
             {"prompt": "When does the canteen open?", "completion": "7 am [1]"}]
    (folder / "train.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (folder / "eval.jsonl").write_text("")
    (folder / "manifest.json").write_text(json.dumps({"data_sha256": "d" * 64}))
    with app.store.session() as sess:
        sess.add(AdapterTable(version=1, name="ward", path="/nowhere", sha256="a" * 64,
                              base_sha256="b" * 64, data_sha256="d" * 64, training="{}",
                              metrics="{}", created_at="2026-12-01T00:00:00", active=True))
    return app, tmp_path / "data"


def test_erase_subject_reaches_every_copy_and_leaves_no_trace(erasable):
    app, data = erasable
    assert traces(data, SUBJECT)  # the control: before, the text is there
    plan = app.erasure.plan(subject=SUBJECT)
    counts = plan.scope.counts()
    assert counts["chunks"] >= 1 and counts["conversations"] == 1
    assert counts["answer_log"] >= 1 and counts["dataset_examples"] == 1
    assert counts["adapters_flagged"] == 1
    done = app.erasure.erase(plan, actor="dpo", subject=SUBJECT)
    assert not any(done.remaining.values()), done.remaining
    assert done.deactivated == [1]
    # nothing the appliance offers returns it
    hits = app.retriever.search(f"patient {SUBJECT} ward", k=10).hits
    assert all(SUBJECT not in h.text for h in hits)
    assert any("Visiting hours" in h.text for h in
               app.retriever.search("visiting hours ward 7", k=3).hits)  # the rest stays
    with app.store.session() as sess:
        titles = list(sess.scalars(select(ConversationTable.title)))
        assert titles == ["When does the canteen open?"]
        assert sess.scalar(select(func.count(MessageTable.id))) == 2
        assert all(SUBJECT not in (r.question + r.shown) for r in sess.scalars(
            select(AnswerLogTable)))
        adapter = sess.scalars(select(AdapterTable)).one()
        assert not adapter.active and json.loads(adapter.erased_data)[0]["examples"] == 1
    assert SUBJECT not in (data / "tuning" / "datasets" / "ward" / "train.jsonl").read_text()
    assert app.indexes.check().ok
    # no file of the data dir holds the text (database after VACUUM, indexes, datasets)
    assert traces(data, SUBJECT) == []
    # the report verifies offline, and a changed one does not
    from appliance.audit import load_keyring, verify_report

    report = done.report_path.read_text()
    body = verify_report(report, load_keyring(app.settings))
    assert body["removed"]["chunks"] == counts["chunks"] and SUBJECT not in report
    forged = report.replace(f'"chunks": {counts["chunks"]}', '"chunks": 0')
    with pytest.raises(AuditError, match="changed after signing"):
        verify_report(forged, load_keyring(app.settings))
    out = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data), "audit",
                          "verify-erasure", str(done.report_path)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("OK: erasure of a subject"), out
    done.report_path.write_text(forged)
    out = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data), "audit",
                          "verify-erasure", str(done.report_path)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "changed after signing" in out.stdout
    assert app.audit.verify(record=False).ok
    # the review export and the conversations lack it; a new answer cites no passage with it
    exported = data / "corrections.jsonl"
    app.quality.export_corrections(exported)
    assert SUBJECT not in exported.read_text()
    nurse = app.accounts.user("nurse")
    who = Principal(nurse.id, nurse.username, nurse.role, "cli")
    assert all(SUBJECT not in c.title for c in app.conversations.list(who))
    answer = app.chat.ask(f"Which ward is patient {SUBJECT} on?")  # (logs a new question)
    assert all(SUBJECT not in c.text for c in answer.citations)


def test_erase_document_user_and_refusals(erasable):
    app, data = erasable
    with pytest.raises(InvalidRequest, match="at least 3"):
        app.erasure.plan(subject="QX")
    doc_id = next(d.id for d in app.documents.list(_admin(app)) if d.name == "canteen.md")
    plan = app.erasure.plan(document=doc_id)
    assert [d["name"] for d in plan.scope.documents] == ["canteen.md"]
    assert plan.scope.answer_log  # the canteen answer showed its passage
    app.erasure.erase(plan, actor="dpo")
    assert [d.name for d in app.documents.list(_admin(app))] == ["ward-notes.md"]
    plan = app.erasure.plan(user="nurse")
    assert plan.scope.counts()["conversations"] == 2
    app.erasure.erase(plan, actor="dpo")
    with app.store.session() as sess:
        assert sess.scalar(select(func.count(ConversationTable.id))) == 0
        assert sess.scalar(select(func.count(AnswerLogTable.id))) == 0
    assert len(list((data / "erasure").glob("*.json"))) == 2


def _admin(app):
    return Principal(0, "root", "admin", "cli")


def test_retention_expires_old_documents_and_conversations(app_factory, tmp_path):
    import time
    from datetime import datetime, timedelta, timezone

    from appliance.store import DocumentTable

    app = app_factory(tmp_path / "data", collection_retention="tickets=30",
                      conversation_retention_days=90)
    assert app.expire() is None  # nothing old yet
    app.ingest.ingest_bytes("old-ticket.md", b"# Ticket\n\nPrinter jammed on floor 2.\n",
                            "tickets")
    app.ingest.ingest_bytes("new-ticket.md", b"# Ticket\n\nScanner offline on floor 3.\n",
                            "tickets")
    app.ingest.ingest_bytes("policy.md", b"# Policy\n\nKept for ever, an old policy.\n",
                            "handbook")
    old = datetime.now(timezone.utc) - timedelta(days=45)
    with app.store.session() as sess:
        for doc in sess.scalars(select(DocumentTable)):
            if doc.name != "new-ticket.md":
                doc.updated_at = old
        user, _ = app.accounts.create_user(None, "clerk", "user", "a-long-enough-passw0rd")
        for age in (100, 10):
            sess.add(ConversationTable(user_id=user.id, title=f"{age} days old",
                                       created_at=time.time() - age * 86400,
                                       updated_at=time.time() - age * 86400))
    done = app.expire()
    assert done.target_kind == "expired" and done.report_path.exists()
    with app.store.session() as sess:
        assert sorted(sess.scalars(select(DocumentTable.name))) == ["new-ticket.md",
                                                                    "policy.md"]
        assert list(sess.scalars(select(ConversationTable.title))) == ["10 days old"]
    assert app.indexes.check().ok


@pytest.mark.postgres
def test_erasure_on_postgresql_rewrites_the_tables(pg_url, app_factory, tmp_path):
    app = app_factory(tmp_path / "data", database_url=pg_url)
    app.ingest.ingest_bytes("ward-notes.md", DOC.encode())
    plan = app.erasure.plan(subject=SUBJECT)
    assert plan.scope.counts()["chunks"] == 1
    done = app.erasure.erase(plan, actor="dpo", subject=SUBJECT)
    assert not any(done.remaining.values())
    assert all(SUBJECT not in h.text for h in app.retriever.search(SUBJECT, k=5).hits)
    assert app.indexes.check().ok and app.audit.verify(record=False).ok
