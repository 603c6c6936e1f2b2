"""The Sources admin page over HTTP: admins only; add, sync, change, remove a watched folder;
freshness shown on the page, on citations and in /metrics."""
import re


def test_only_admins_open_the_sources_page(world):
    for name in ("carol", "audrey", "rita"):
        user = world.logged_in(name)
        assert user.get("/admin/sources").status_code == 403
        assert user.post("/admin/sources", data={"path": "/tmp"}).status_code == 403
    assert 'href="/admin/sources"' not in world.logged_in("carol").get("/chat").text
    assert 'href="/admin/sources"' in world.logged_in("admin").get("/chat").text


def test_an_admin_watches_a_folder_and_sees_its_freshness(world, tmp_path):
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "rota.md").write_text("# Rota\n\nThe night porter starts at 10 pm.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    admin = world.logged_in("admin")
    page = admin.post("/admin/sources", data={"path": str(folder), "collection": "notes",
                                               "exclude": "drafts/"})
    assert page.status_code == 201, page.text
    source_id = int(re.search(r'id="source-(\d+)"', page.text).group(1))
    assert "1 added" in page.text and "1 failed" in page.text
    assert "broken.pdf" in page.text  # the file and its reason, on the page
    assert "1 of 2 files indexed" in page.text
    metrics = admin.get("/metrics").text
    assert re.search(rf'appliance_source_staleness_seconds{{collection="notes",'
                     rf'source="{source_id}"}} \d', metrics), metrics
    assert f'appliance_source_file_errors{{collection="notes",source="{source_id}"}} 1.0' \
        in metrics
    hits = world.services.retriever.search("night porter start", k=1,
                                           collections=["notes"]).hits
    assert hits[0].doc_name == "rota.md" and hits[0].doc_updated is not None
    (folder / "rota.md").unlink()
    page = admin.post(f"/admin/sources/{source_id}/sync")
    assert "1 removed" in page.text
    bad = admin.post("/admin/sources", data={"path": str(tmp_path / "missing")})
    assert bad.status_code == 404 and "is not a folder" in bad.text
    page = admin.post(f"/admin/sources/{source_id}/remove")
    assert page.status_code == 200 and f'id="source-{source_id}"' not in page.text


def test_citations_carry_the_document_version_and_ingest_time(world):
    from webtools import done_event

    done = done_event(world.logged_in("carol").ask("How long must a password be?"))
    assert done["citations"], done
    for c in done["citations"]:
        assert c["version"] >= 1 and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$",
                                              c["ingested_at"]), c
