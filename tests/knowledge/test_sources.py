"""Watched sources with the real embedder, FAISS files and SQLite: the index matches the folder
after every kind of change, uploads survive, a restart catches up, the watcher reacts."""
import json
import threading
import time

import pytest
from sqlalchemy import select

from appliance.errors import InvalidRequest
from appliance.store import AuditEventTable, DocumentTable

pytestmark = pytest.mark.slow


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def docs(app, collection="watched"):
    with app.store.session() as sess:
        return {d.name: (d.id, d.version) for d in sess.scalars(
            select(DocumentTable).where(DocumentTable.collection == collection))}


def assert_mirrors(app, folder, collection="watched", extra=()):
    """The collection holds exactly the folder's supported files (plus `extra`), and the
    indexes agree with the store."""
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and p.suffix in (".md", ".txt")}
    assert set(docs(app, collection)) == files | set(extra)
    assert app.indexes.check().ok


def top(app, query, collection="watched"):
    hits = app.retriever.search(query, k=1, collections=[collection]).hits
    return hits[0] if hits else None


def test_create_change_delete_rename_exclude(app_factory, tmp_path):
    app = app_factory()
    folder = tmp_path / "share"
    write(folder, "leave.md", "# Leave\n\nFull-time staff get 27 days of annual leave.\n")
    write(folder, "parking.md", "# Parking\n\nVisitor parking costs 4 pounds a day.\n")
    src = app.sources.add(folder, "watched")
    [r] = app.sources.sync()
    assert (r.added, r.removed, r.failed) == (2, 0, 0)
    assert_mirrors(app, folder)
    assert "27 days" in top(app, "how many days of annual leave").text

    write(folder, "leave.md", "# Leave\n\nFull-time staff get 30 days of annual leave.\n")
    [r] = app.sources.sync()
    assert r.updated == 1
    _, version = docs(app)["leave.md"]
    assert version == 2
    hit = top(app, "how many days of annual leave")
    assert "30 days" in hit.text and hit.doc_version == 2  # the old version left the index

    parking_id = docs(app)["parking.md"][0]
    (folder / "parking.md").rename(folder / "facilities-parking.md")
    [r] = app.sources.sync()
    assert (r.renamed, r.added, r.removed) == (1, 0, 0)
    assert docs(app)["facilities-parking.md"][0] == parking_id  # the same document
    assert_mirrors(app, folder)

    (folder / "facilities-parking.md").unlink()
    [r] = app.sources.sync()
    assert r.removed == 1
    assert_mirrors(app, folder)
    assert top(app, "visitor parking cost") is None or "pounds" not in \
        top(app, "visitor parking cost").text

    write(folder, "drafts/plan.md", "# Draft\n\nA draft plan nobody approved.\n")
    app.sources.sync()
    assert "drafts/plan.md" in docs(app)
    app.sources.change(src.id, exclude=["drafts/"])
    [r] = app.sources.sync()
    assert r.removed == 1 and "drafts/plan.md" not in docs(app)
    # the audit log has every sync, with counts and the folder's state hash
    with app.store.session() as sess:
        syncs = [json.loads(e.details) for e in sess.scalars(
            select(AuditEventTable).where(AuditEventTable.type == "source.sync"))]
    assert [s["added"] for s in syncs] == [2, 0, 0, 0, 1, 0]
    assert [s["removed"] for s in syncs] == [0, 0, 0, 1, 0, 1]
    assert all(len(s["state_sha256"]) == 64 for s in syncs)


def test_uploads_are_never_touched_and_name_clashes_are_reported(app_factory, tmp_path):
    app = app_factory()
    folder = tmp_path / "share"
    write(folder, "a.md", "# A\n\nAlpha text about widgets.\n")
    app.ingest.ingest_bytes("uploaded.md", b"# Up\n\nUploaded by hand about gadgets.\n",
                            "watched")
    app.ingest.ingest_bytes("b.md", b"# B\n\nAn upload that has the name of a file.\n",
                            "watched")
    write(folder, "b.md", "# B\n\nThe folder's own b file.\n")
    app.sources.add(folder, "watched")
    [r] = app.sources.sync()
    assert r.added == 1 and r.failed == 1
    assert "already in collection" in dict(r.errors)["b.md"]
    (folder / "a.md").unlink()
    app.sources.sync()
    names = set(docs(app))
    assert names == {"uploaded.md", "b.md"}  # both uploads stay, the deleted file went
    info = app.sources.list()[0]
    assert info.errors and info.errors[0][0] == "b.md"


def test_burst_of_500_files_then_a_rescan_reads_nothing(app_factory, tmp_path):
    app = app_factory()
    folder = tmp_path / "burst"
    for i in range(500):
        write(folder, f"d{i // 50}/note-{i}.txt", f"Note {i}: the code for room {i} is R{i}.")
    app.sources.add(folder, "watched")
    [r] = app.sources.sync()
    assert r.added == 500 and not r.errors
    assert_mirrors(app, folder)
    [r] = app.sources.sync()
    assert r.unchanged == 500 and r.changes == 0


def test_restart_catches_up_with_changes_made_while_stopped(app_factory, tmp_path):
    data = tmp_path / "data"
    folder = tmp_path / "share"
    write(folder, "one.md", "# One\n\nFirst file.\n")
    write(folder, "two.md", "# Two\n\nSecond file.\n")
    app = app_factory(data)
    app.sources.add(folder, "watched")
    app.sources.sync()
    app.close()
    write(folder, "three.md", "# Three\n\nThird file, added while stopped.\n")
    (folder / "one.md").unlink()
    again = app_factory(data)
    [r] = again.sources.sync()
    assert (r.added, r.removed, r.unchanged) == (1, 1, 1)
    assert_mirrors(again, folder)


def test_moved_between_sources_of_one_collection_keeps_the_document(app_factory, tmp_path):
    app = app_factory()
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "policy.md", "# Policy\n\nThe moving policy text.\n")
    b.mkdir()
    app.sources.add(a, "watched")
    app.sources.add(b, "watched")
    app.sources.sync()
    doc_id = docs(app)["policy.md"][0]
    (a / "policy.md").rename(b / "policy.md")
    reports = app.sources.sync()
    assert sum(r.moved for r in reports) == 1 and sum(r.removed for r in reports) == 0
    assert docs(app)["policy.md"][0] == doc_id
    assert [i.indexed for i in app.sources.list()] == [0, 1]


def test_overlapping_or_data_dir_sources_are_refused(app_factory, tmp_path):
    app = app_factory()
    (tmp_path / "share" / "sub").mkdir(parents=True)
    app.sources.add(tmp_path / "share", "watched")
    with pytest.raises(InvalidRequest, match="overlaps source"):
        app.sources.add(tmp_path / "share" / "sub", "watched")
    with pytest.raises(InvalidRequest, match="data dir"):
        app.sources.add(tmp_path, "watched")


def test_remove_takes_the_documents_unless_kept(app_factory, tmp_path):
    app = app_factory()
    write(tmp_path / "s1", "x.md", "# X\n\nx file.\n")
    write(tmp_path / "s2", "y.md", "# Y\n\ny file.\n")
    one = app.sources.add(tmp_path / "s1", "watched")
    two = app.sources.add(tmp_path / "s2", "watched")
    app.sources.sync()
    assert app.sources.remove(one.id) == 1
    app.sources.remove(two.id, keep_documents=True)
    assert set(docs(app)) == {"y.md"} and app.sources.list() == []
    assert app.indexes.check().ok


def test_the_watcher_follows_the_folder(app_factory, tmp_path):
    app = app_factory(source_debounce_seconds=0.3)
    folder = tmp_path / "live"
    write(folder, "start.md", "# Start\n\nThere from the start.\n")
    app.sources.add(folder, "watched")
    watcher = app.source_watcher()
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: "start.md" in docs(app))  # the catch-up sync at start
        write(folder, "new.md", "# New\n\nThe canteen opens at 7 am.\n")
        wait_for(lambda: "new.md" in docs(app))
        (folder / "start.md").unlink()
        wait_for(lambda: "start.md" not in docs(app))
        wait_for(lambda: app.indexes.check().ok)  # the indexes follow the store's commit
        assert_mirrors(app, folder)
    finally:
        stop.set()
        thread.join(timeout=30)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the watcher did not sync in time")


def test_answers_follow_a_saved_change_with_the_real_model(app_factory, model_dir, tmp_path):
    app = app_factory(llm_model_path=str(next(model_dir.glob("*.gguf"))))
    folder = tmp_path / "share"
    text = "# Travel\n\nThe annual travel allowance for field staff is {} pounds.\n"
    write(folder, "travel.md", text.format(1200))
    app.sources.add(folder, "default")
    app.sources.sync()
    question = "What is the annual travel allowance for field staff?"
    first = app.chat.ask(question)
    assert "1200" in first.answer.replace(",", "") and first.citations[0].version == 1
    write(folder, "travel.md", text.format(1350))
    app.sources.sync()
    second = app.chat.ask(question)
    assert "1350" in second.answer.replace(",", "") and "1200" not in second.answer
    assert second.citations[0].version == 2 and second.citations[0].ingested_at
    (folder / "travel.md").unlink()
    app.sources.sync()
    assert not app.chat.ask(question).citations  # nothing left to cite
