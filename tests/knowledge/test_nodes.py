"""Several appliance nodes on one PostgreSQL store, each with its own data dir and index
files: every node's FAISS and BM25 replicas tail the store's change sequence."""
import threading

import pytest
from sqlalchemy import func, select

from appliance.store import ChunkTable

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def doc(name: str, fact: str) -> bytes:
    return f"# {name}\n\n{fact}\n".encode()


def names(node, query, k=5):
    return [h.doc_name for h in node.retriever.search(query, k=k).hits]


@pytest.fixture
def nodes(pg_url, app_factory, tmp_path):
    a = app_factory(tmp_path / "a", database_url=pg_url)
    b = app_factory(tmp_path / "b", database_url=pg_url)
    return a, b


def test_what_one_node_ingests_or_deletes_the_other_finds_or_loses(nodes):
    a, b = nodes
    assert names(b, "anything") == []
    out = a.ingest.ingest_bytes("parking.md", doc("Parking", "Visitor parking costs 4 pounds "
                                                  "a day at the north gate."))
    assert out.status == "added"
    assert names(b, "visitor parking cost")[0] == "parking.md"  # B caught up
    a.ingest.ingest_bytes("parking.md", doc("Parking", "Visitor parking now costs 6 pounds "
                                            "a day at the north gate."))
    hit = b.retriever.search("visitor parking cost", k=1).hits[0]
    assert "6 pounds" in hit.text and hit.doc_version == 2
    b.ingest.delete(hit.doc_id)
    assert "parking.md" not in names(a, "visitor parking cost")
    assert a.indexes.check().ok and b.indexes.check().ok


def test_concurrent_ingests_on_both_nodes_lose_and_duplicate_nothing(nodes):
    a, b = nodes
    errors = []

    def ingest(node, prefix):
        try:
            for i in range(12):
                node.ingest.ingest_bytes(f"{prefix}-{i}.md", doc(f"{prefix} {i}", (
                    f"Room {prefix}{i} on floor {i} is booked through the {prefix} desk.")))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(n, p)) for n, p in ((a, "east"),
                                                                         (b, "west"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for node in (a, b):
        node.retriever.search("room booked desk", k=1)  # catch up
        report = node.indexes.check()
        assert report.ok and report.store_chunks == 24, report
        with node.store.session() as sess:
            assert sess.scalar(select(func.count(ChunkTable.id))) == 24
    assert set(names(a, "room west7 booked", k=3)) & {"west-7.md"}
    assert set(names(b, "room east3 booked", k=3)) & {"east-3.md"}


def test_a_new_node_builds_from_the_store_then_tails(pg_url, app_factory, tmp_path):
    a = app_factory(tmp_path / "a", database_url=pg_url)
    facts = ["Spare keys are kept at the porters' lodge.", "The canteen opens at 7 am.",
             "Fire drills happen on the first Monday.", "Bicycles go in the rack by gate B.",
             "The library lends laptops for a week."]
    for i, fact in enumerate(facts):
        a.ingest.ingest_bytes(f"note-{i}.md", doc(f"Note {i}", fact))
    c = app_factory(tmp_path / "c", database_url=pg_url)  # joins later, empty index dir
    assert c.indexes.check().ok and c.indexes.vectors.applied_seq == a.indexes.head()
    assert names(c, "where are bicycles parked", k=1) == ["note-3.md"]
    a.ingest.ingest_bytes("late.md", doc("Late", "The late shift ends at 6 am."))
    assert names(c, "late shift end", k=1) == ["late.md"]


def test_an_erasure_on_one_node_reaches_the_other_nodes_vectors(nodes):
    a, b = nodes
    a.ingest.ingest_bytes("ward.md", doc("Ward", "Patient reference QX4471ZB moved to ward 7. "
                                         "Visiting hours end at 8 pm."))
    assert names(b, "patient reference ward", k=1) == ["ward.md"]
    plan = a.erasure.plan(subject="QX4471ZB")
    a.erasure.erase(plan, actor="dpo", subject="QX4471ZB")
    hits = b.retriever.search("patient QX4471ZB ward", k=3).hits
    assert hits and all("QX4471ZB" not in h.text for h in hits)
    # B's vector for the chunk is the re-embedded one, not the erased text's
    [chunk] = [h.chunk_id for h in hits if h.doc_name == "ward.md"]
    import numpy as np

    with b.store.session() as sess:
        stored = np.frombuffer(sess.get(ChunkTable, chunk).embedding, dtype=np.float32)
    assert np.allclose(b.indexes.vectors.index.reconstruct(chunk), stored, atol=1e-6)


def test_sessions_tokens_and_the_audit_chain_are_shared(nodes):
    a, b = nodes
    a.accounts.create_user(None, "nurse", "user", "a-long-enough-passw0rd")
    cookie, _ = a.accounts.sessions.login("nurse", "a-long-enough-passw0rd", "10.1.0.1")
    assert b.accounts.sessions.principal(cookie).username == "nurse"  # B knows A's session
    user = b.accounts.user("nurse")
    from appliance.accounts.login import Principal

    who = Principal(user.id, "nurse", "user", "cli")
    token, info = b.accounts.tokens.create(who, "laptop")
    assert a.accounts.tokens.principal(token).username == "nurse"
    b.accounts.tokens.revoke(who, info.id)
    assert a.accounts.tokens.principal(token) is None  # revoked on B: refused on A at once
    errors = []

    def record(node, who):
        try:
            for i in range(40):
                node.audit.record("policy.change", actor=who, details={"n": i})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(n, w)) for n, w in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    result = b.audit.verify(record=False)
    assert result.ok, result
    actors = [e.actor for e in a.audit.events() if e.type == "policy.change"]
    assert actors.count("a") == 40 and actors.count("b") == 40  # one chain, both nodes


def test_pruning_keeps_what_a_live_node_needs_and_an_absent_node_rebuilds(nodes, capsys):
    import time

    from sqlalchemy import update

    from appliance.cli import main
    from appliance.store import IndexChangeTable, IndexNodeTable, prune_changes

    a, b = nodes
    a.ingest.ingest_bytes("one.md", doc("One", "The first memo names the cobalt valve."))
    assert names(b, "cobalt valve")[0] == "one.md"  # B applied it and said so
    b_seen = b.indexes.vectors.applied_seq
    a.ingest.ingest_bytes("two.md", doc("Two", "The second memo names the amber lever."))
    names(a, "amber lever")
    deleted, through = prune_changes(a.store, keep_seconds=3600)
    assert through == b_seen and deleted > 0  # only what both nodes had applied
    assert names(b, "amber lever")[0] == "two.md"  # B tails the changes it still needed

    # B goes quiet for longer than the window while A deletes and adds.
    a.ingest.delete(a.retriever.search("amber lever", k=1).hits[0].doc_id)
    a.ingest.ingest_bytes("three.md", doc("Three", "The third memo names the violet gauge."))
    names(a, "violet gauge")
    with a.store.session() as sess:
        sess.execute(update(IndexNodeTable).where(IndexNodeTable.name == b.indexes.node_name)
                     .values(seen_at=time.time() - 30 * 86400))
    later = time.time() + 8 * 86400  # a week on, everything is older than the window
    deleted, through = prune_changes(a.store, keep_seconds=7 * 86400, now=later)
    with a.store.session() as sess:
        assert sess.query(IndexChangeTable).count() == 1  # the head stays
    assert "two.md" not in names(b, "amber lever")  # B saw the gap and rebuilt
    assert names(b, "violet gauge")[0] == "three.md"
    assert b.indexes.check().ok

    toml = a.settings.data_dir / "nodes.toml"
    toml.write_text(f'database_url = "{a.settings.database_url}"\n')
    assert main(["--data-dir", str(a.settings.data_dir), "--settings", str(toml), "nodes",
                 "--json"]) == 0
    import json

    state = json.loads(capsys.readouterr().out)
    assert state["pruned_through"] == through and state["change_rows"] == 1
    assert {n["name"] for n in state["nodes"]} == {a.indexes.node_name, b.indexes.node_name}
    assert all(n["behind"] == 0 for n in state["nodes"])


def test_a_large_index_takes_another_nodes_changes_into_bm25_in_the_background(
        pg_url, app_factory, tmp_path):
    a = app_factory(tmp_path / "a", database_url=pg_url)
    b = app_factory(tmp_path / "b", database_url=pg_url, keyword_defer_chunks=1)
    a.ingest.ingest_bytes("one.md", doc("One", "The first memo names the cobalt valve."))
    assert names(b, "cobalt valve")[0] == "one.md"
    a.ingest.ingest_bytes("two.md", doc("Two", "Night porters collect the zircon badge."))
    hit = b.retriever.search("night porters zircon badge", k=1).hits[0]
    assert hit.doc_name == "two.md"  # found at once, through its vector …
    assert [i for i, _ in b.indexes.keyword_search("zircon", 3)] == [hit.chunk_id]  # … and words
    b.indexes.wait_for_keywords()
    assert 0 < len(b.indexes.keywords) == len(b.indexes.vectors)
    assert b.indexes.check().ok
    assert [i for i, _ in b.indexes.keywords.search("zircon", 3)] == [hit.chunk_id]
    a.ingest.delete(hit.doc_id)
    assert "two.md" not in names(b, "zircon badge")  # never a removed chunk meanwhile
    b.indexes.wait_for_keywords()
    assert b.indexes.keywords.search("zircon", 3) == [] and b.indexes.check().ok
