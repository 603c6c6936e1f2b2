"""The Erasure admin page over HTTP: preview, confirm, the signed report; admins only."""
import re


def test_an_admin_previews_and_erases_a_subject_and_gets_a_signed_report(world):
    from appliance.audit import load_keyring, verify_report

    services = world.services
    outcome = services.ingest.ingest_bytes(
        "porter-notes.md", b"# Porters\n\nBadge ZZ81734K was lost on Monday.\n\n"
        b"Porters collect linen at 6 am.\n", "notes")
    assert outcome.status == "added"
    for name in ("carol", "audrey", "rita"):
        user = world.logged_in(name)
        assert user.get("/admin/erasure").status_code == 403
        assert user.post("/admin/erasure/preview",
                         data={"kind": "subject", "value": "ZZ81734K"}).status_code == 403
    admin = world.logged_in("admin")
    page = admin.post("/admin/erasure/preview", data={"kind": "subject", "value": "ZZ81734K"})
    assert page.status_code == 200 and 'id="preview"' in page.text
    assert re.search(r"<td>chunks</td><td>1</td>", page.text)
    assert services.retriever.search("badge lost monday", k=1,
                                     collections=["notes"]).hits[0].doc_name == "porter-notes.md"
    unconfirmed = admin.post("/admin/erasure", data={"kind": "subject", "value": "ZZ81734K"})
    assert unconfirmed.status_code == 400 and "type erase" in unconfirmed.text
    page = admin.post("/admin/erasure", data={"kind": "subject", "value": "ZZ81734K",
                                              "confirm": "erase"})
    assert page.status_code == 200 and 'id="erased"' in page.text
    assert '<strong id="remaining">0</strong>' in page.text
    name = re.search(r"/admin/erasure/reports/(erasure-[^\"]+\.json)", page.text).group(1)
    report = admin.get(f"/admin/erasure/reports/{name}")
    assert report.status_code == 200 and "ZZ81734K" not in report.text
    body = verify_report(report.text, load_keyring(services.settings))
    assert body["actor"] == "admin" and body["removed"]["chunks"] == 1
    assert "signature valid" in admin.get("/admin/erasure").text
    hits = services.retriever.search("badge lost monday", k=3, collections=["notes"]).hits
    assert all("ZZ81734K" not in h.text for h in hits)
    assert admin.get("/admin/erasure/reports/..%2Fappliance.db").status_code == 404
    bad = admin.post("/admin/erasure/preview", data={"kind": "document", "value": "x"})
    assert bad.status_code == 400
