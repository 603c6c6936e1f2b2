"""Documents over HTTP: upload (limit, allow-list, permission), list, chunk view, delete."""
import io

from webtools import done_event


def _upload(user, name, data, collection="handbook"):
    return user.post("/documents/upload", headers={"Accept": "application/json"},
                     data={"file": (io.BytesIO(data), name), "collection": collection},
                     content_type="multipart/form-data")


def test_upload_view_ask_and_delete(world):
    carol = world.logged_in("carol")
    page = carol.get("/documents").text
    assert 'id="upload-form"' in page and 'value="handbook"' in page
    text = b"# Parking\n\nStaff parking permits cost 12 pounds a month from the Estates office.\n"
    response = _upload(carol, "parking.md", text)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "added" and response.json["chunks"] == 1
    doc_id = response.json["doc_id"]
    assert "parking.md" in carol.get("/documents").text
    view = carol.get(f"/documents/{doc_id}")
    assert "12 pounds a month" in view.text and "Parking" in view.text
    done = done_event(carol.ask("How much does a staff parking permit cost?"))
    assert any(c["doc_name"] == "parking.md" for c in done["citations"])
    again = _upload(carol, "parking.md", text)
    assert again.status_code == 200 and again.json["status"] == "unchanged"
    assert carol.post(f"/documents/{doc_id}/delete").status_code == 303
    assert carol.get(f"/documents/{doc_id}").status_code == 404
    kinds = [(e.type, e.actor) for e in world.services.audit.events()
             if e.target == f"doc:{doc_id}"]
    assert ("document.ingest", "carol") in kinds and ("document.delete", "carol") in kinds


def test_upload_limits_types_and_permissions(world):
    carol, bob = world.logged_in("carol"), world.logged_in("bob")
    too_big = _upload(carol, "big.txt", b"word " * 50_000)
    assert too_big.status_code == 413 and "limit" in too_big.json["error"]
    huge = _upload(carol, "huge.txt", b"x" * 1_400_000)  # beyond the request limit itself
    assert huge.status_code == 413
    exe = _upload(carol, "tool.exe", b"MZ\x90\x00")
    assert exe.status_code == 415 and ".md" in exe.json["error"]
    corrupt = _upload(carol, "broken.pdf", b"%PDF-1.4 not really")
    assert corrupt.status_code == 422 and corrupt.json["status"] == "failed"
    assert "broken.pdf" in corrupt.json["error"]
    assert _upload(carol, "x.md", b"# x\n\ntext\n", "alpha").status_code == 403
    assert _upload(bob, "x.md", b"# x\n\ntext\n", "beta").status_code == 403  # read-only
    assert "upload-form" not in bob.get("/documents").text
    no_file = carol.post("/documents/upload", headers={"Accept": "application/json"},
                         data={"collection": "handbook"})
    assert no_file.status_code == 400
    traversal = _upload(carol, "../../etc/notes.txt", b"Harmless notes about lunch.\n")
    assert traversal.status_code == 201 and traversal.json["name"] == "notes.txt"
    carol.post(f"/documents/{traversal.json['doc_id']}/delete")
