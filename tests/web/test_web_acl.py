"""A user of group A never sees group B's chunks: not through the chat, the document pages,
the document list, nor the OpenAI API; access is decided inside retrieval."""
import pytest
from webtools import done_event, parse_sse

B_SECRET, A_SECRET = "OKAPI-9023", "ZEBRA-4471"


@pytest.fixture
def alice_token(world):
    alice = world.logged_in("alice")
    response = alice.post("/account/tokens", data={"name": "acl-test"})
    assert response.status_code == 201
    import re
    return re.search(r'id="new-token">([^<]+)<', response.text).group(1)


def test_chat_answers_only_from_the_callers_collections(world):
    alice = world.logged_in("alice")
    for question in ("What is the beta vault code?", "Which archive does the west code open?",
                     "OKAPI-9023"):
        done = done_event(alice.ask(question))
        assert B_SECRET not in done["answer"]
        assert all(c["doc_name"] != "beta.md" for c in done["citations"])
        assert A_SECRET in done["answer"] or done["refused"]
    bob = world.logged_in("bob")
    done = done_event(bob.ask("What is the vault code?"))
    assert B_SECRET in done["answer"] and A_SECRET not in done["answer"]


def test_document_pages_and_lists_hide_other_collections(world):
    alice, bob = world.logged_in("alice"), world.logged_in("bob")
    listing = bob.get("/documents").text
    assert "beta.md" in listing and "alpha.md" not in listing and "canteen.md" not in listing
    beta_id = next(d.id for d in world.services.documents.list(_admin(world))
                   if d.name == "beta.md")
    page = alice.get(f"/documents/{beta_id}")
    assert page.status_code == 404 and B_SECRET not in page.text
    assert alice.post(f"/documents/{beta_id}/delete").status_code == 404
    assert bob.post(f"/documents/{beta_id}/delete").status_code == 403  # read-only grant
    # An admin manages every document by name, but reads text only through groups too.
    admin = world.logged_in("admin")
    assert "beta.md" in admin.get("/documents").text
    assert admin.get(f"/documents/{beta_id}").status_code == 404


def test_the_api_answers_only_from_the_tokens_users_collections(world, alice_token):
    client = world.app.test_client()
    auth = {"Authorization": f"Bearer {alice_token}"}
    body = {"model": "appliance", "messages": [{"role": "user",
                                                "content": "What is the beta vault code?"}]}
    response = client.post("/v1/chat/completions", json=body, headers=auth)
    assert response.status_code == 200
    data = response.json
    assert B_SECRET not in data["choices"][0]["message"]["content"]
    assert all(c["doc_name"] != "beta.md" for c in data["appliance"]["citations"])
    assert data["appliance"]["collections"] == ["alpha"]
    asked_for_b = client.post("/v1/chat/completions", headers=auth,
                              json=body | {"appliance": {"collections": ["beta"]}})
    assert asked_for_b.status_code == 403
    assert asked_for_b.json["error"]["type"] == "permission_error"
    streamed = client.post("/v1/chat/completions", headers=auth, json=body | {"stream": True})
    assert B_SECRET not in streamed.get_data(as_text=True)


def test_retrieval_itself_filters_by_the_allowed_collections(world):
    hits = world.services.retriever.search("beta vault code OKAPI", k=10,
                                           collections={"alpha"}).hits
    assert hits and all(h.collection == "alpha" for h in hits)
    assert world.services.retriever.search("vault", collections=set()).hits == []


def test_losing_a_grant_takes_effect_on_the_next_question(world):
    access = world.services.accounts.access
    access.create_group(None, "temp-beta")
    access.set_grant(None, "temp-beta", "beta", "read")
    access.set_member(None, "temp-beta", "carol", True)
    carol = world.logged_in("carol")
    assert B_SECRET in done_event(carol.ask("What is the beta vault code?",
                                            collections=["beta"]))["answer"]
    access.set_member(None, "temp-beta", "carol", False)
    again = carol.post("/chat/ask", json={"question": "What is the beta vault code?",
                                          "collections": ["beta"]})
    assert again.status_code == 403
    events = parse_sse(carol.post("/chat/ask", json={
        "question": "What is the beta vault code?"}).get_data(as_text=True))
    assert B_SECRET not in done_event(events)["answer"]


def _admin(world):
    from appliance.accounts.login import Principal

    info = world.services.accounts.user("admin")
    return Principal(info.id, info.username, info.role, "session")


def test_a_small_collection_in_a_large_shared_index_is_still_found(app_factory, tmp_path):
    """Team A's one document about parking must reach team A even when a hundred documents of
    team B about parking fill the first candidates of the shared index."""
    app = app_factory(retrieval_candidates=20)
    many = tmp_path / "b"
    many.mkdir()
    for i in range(120):
        (many / f"b-parking-{i}.md").write_text(
            f"# Parking notice {i}\n\nCar park {i} of site B opens at {6 + i % 4}:00 for staff "
            f"parking; permits for parking bay {i} are issued by the B estates desk.\n")
    app.ingest.ingest_paths([many], collection="beta", progress=False)
    (tmp_path / "a-parking.md").write_text(
        "# Team A parking\n\nTeam A staff parking is in the north car park, level 2.\n")
    app.ingest.ingest_paths([tmp_path / "a-parking.md"], collection="alpha", progress=False)
    query = "who issues permits for a staff parking bay in the car park"
    everyone = app.retriever.search(query, k=20)
    assert all(h.collection == "beta" for h in everyone.hits)  # A's is not among the first 20
    alpha = app.retriever.search(query, k=4, collections={"alpha"})
    assert [h.doc_name for h in alpha.hits] == ["a-parking.md"]
    assert alpha.timings_ms["widened_to"] > 20
