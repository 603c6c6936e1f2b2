"""The OpenAI-compatible API in-process (fake generator): shapes, streaming, embeddings,
the `appliance` extension, tokens. The real client against the real server: test_web_live."""
import base64
import json
import re

import numpy as np
import pytest


@pytest.fixture
def api(world):
    user = world.logged_in("carol")
    response = user.post("/account/tokens", data={"name": "api-test"})
    secret = re.search(r'id="new-token">([^<]+)<', response.text).group(1)
    client = world.app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}

    def call(method, path, **kw):
        return client.open(path, method=method, headers=headers | kw.pop("headers", {}), **kw)
    call.user, call.secret = user, secret
    return call


def _chunks(text):
    out = []
    for line in text.split("\n"):
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def test_models_and_auth(world, api):
    models = api("GET", "/v1/models").json
    assert {m["id"] for m in models["data"]} == {"appliance", "all-minilm-l6-v2"}
    assert api("GET", "/v1/models/appliance").json["object"] == "model"
    assert api("GET", "/v1/models/gpt-4").status_code == 404
    anonymous = world.app.test_client().get("/v1/models")
    assert anonymous.status_code == 401
    assert anonymous.json["error"]["type"] == "authentication_error"
    forged = world.app.test_client().get("/v1/models",
                                         headers={"Authorization": "Bearer apl_forged"})
    assert forged.status_code == 401


def test_chat_completion_with_citations_in_the_extension_field(world, api):
    body = {"model": "appliance", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the minimum length for my hospital password?"}]}
    data = api("POST", "/v1/chat/completions", json=body).json
    assert data["object"] == "chat.completion" and data["id"].startswith("chatcmpl-")
    assert "14 characters" in data["choices"][0]["message"]["content"]
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + \
        data["usage"]["completion_tokens"]
    ext = data["appliance"]
    assert ext["citations"][0]["doc_name"] == "it-security-policy.md"
    assert set(ext["collections"]) == {"handbook", "notes"} and ext["retrieval"] is True
    assert ext["path"] in ("generated", "quoted"), ext["reason"]  # either way: the source
    assert ext["answer"] == data["choices"][0]["message"]["content"]
    logged = world.services.answer_log.entries(last=1)[0]  # kept for the quality audit
    assert (logged.channel, logged.actor) == ("api", "carol")
    assert logged.answer == ext["answer"] and logged.message_id is None


def test_a_misread_figure_reaches_the_api_as_a_quote_never_as_written(api):
    body = {"model": "appliance", "messages": [
        {"role": "user", "content": "How many days of annual leave do full-time staff get?"}]}
    data = api("POST", "/v1/chat/completions", json=body).json
    content, ext = data["choices"][0]["message"]["content"], data["appliance"]
    assert "27 days" in content and "12.5" not in content
    assert ext["path"] in ("generated", "quoted") and ext["answer"] == content
    if ext["path"] == "quoted":
        assert ext["reason"] and content.startswith(f"{ext['short_answer']} \u2014 \u201c")


def test_streaming_chat_completion(api):
    body = {"model": "appliance", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "Which VPN should I use from home?"}]}
    response = api("POST", "/v1/chat/completions", json=body)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    text = response.get_data(as_text=True)
    assert text.rstrip().endswith("data: [DONE]")
    chunks = _chunks(text)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert "SecureLink" in content
    final = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]][0]
    assert final["appliance"]["citations"] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_the_appliance_field_chooses_collections_or_turns_retrieval_off(world, api):
    base = {"model": "appliance",
            "messages": [{"role": "user", "content": "When does the canteen open?"}]}
    only_notes = api("POST", "/v1/chat/completions",
                     json=base | {"appliance": {"collections": ["notes"]}}).json
    assert only_notes["appliance"]["collections"] == ["notes"]
    assert {c["doc_name"] for c in only_notes["appliance"]["citations"]} == {"canteen.md"}
    world.fake.reply = "Soup."
    plain = api("POST", "/v1/chat/completions",
                json=base | {"appliance": {"retrieval": False}}).json
    assert plain["appliance"]["retrieval"] is False and plain["appliance"]["citations"] == []
    bad = api("POST", "/v1/chat/completions", json=base | {"appliance": {"retrieval": "no"}})
    assert bad.status_code == 400 and bad.json["error"]["type"] == "invalid_request_error"
    assert api("POST", "/v1/chat/completions", json={"model": "appliance", "messages": []}) \
        .status_code == 400
    assert api("POST", "/v1/chat/completions", json=base | {"model": "gpt-4"}).status_code == 404


def test_api_asks_are_redacted_and_audited_like_the_ui(world, api):
    body = {"model": "appliance", "messages": [{"role": "user", "content":
            "Is john.smith@example.org allowed to use the VPN? Call 555-0100."}]}
    world.fake.reply = "Write to john.smith@example.org or call 555-0100."
    data = api("POST", "/v1/chat/completions", json=body).json
    answer = data["choices"][0]["message"]["content"]
    assert "john.smith@example.org" not in answer and "555-0100" not in answer
    ask = [e for e in world.services.audit.events() if e.type == "chat.ask"][-1]
    assert ask.actor == "carol" and "john.smith" not in ask.details
    assert json.loads(ask.details)["redactions"]


def test_embeddings_float_and_base64(world, api):
    floats = api("POST", "/v1/embeddings", json={"model": "all-minilm-l6-v2",
                                                  "input": ["vpn at home", "canteen soup"]}).json
    assert floats["object"] == "list" and len(floats["data"]) == 2
    vec = np.array(floats["data"][0]["embedding"], dtype=np.float32)
    assert vec.shape == (384,) and abs(np.linalg.norm(vec) - 1) < 1e-2  # bf16 embedder
    one = api("POST", "/v1/embeddings", json={"model": "all-minilm-l6-v2",
                                               "input": "vpn at home"}).json
    single = np.array(one["data"][0]["embedding"], dtype=np.float32)
    assert float(single @ vec) > 0.99  # alone or in a batch: the same meaning (bf16 aside)
    packed = api("POST", "/v1/embeddings", json={"model": "all-minilm-l6-v2",
                                                  "input": "vpn at home",
                                                  "encoding_format": "base64"}).json
    decoded = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    assert np.allclose(decoded, single, atol=1e-6) and packed["usage"]["prompt_tokens"] > 0
    assert api("POST", "/v1/embeddings", json={"model": "all-minilm-l6-v2", "input": []}) \
        .status_code == 400
    assert api("POST", "/v1/embeddings", json={"model": "x", "input": "a"}).status_code == 404


def test_a_revoked_token_is_refused_at_once(world, api):
    assert api("GET", "/v1/models").status_code == 200
    token_id = world.services.accounts.tokens.list(
        world.services.accounts.user("carol").id)[0].id
    assert api.user.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    refused = api("GET", "/v1/models")
    assert refused.status_code == 401 and "revoked" in refused.json["error"]["message"]


def test_the_api_ignores_cookies(world):
    carol = world.logged_in("carol")
    assert carol.get("/v1/models").status_code == 401  # a session is not an API credential


def test_a_streamed_answer_that_fails_the_check_never_streams_the_unchecked_text(world, api):
    world.fake.reply = "Full-time staff get 12.5 days of annual leave [1]."
    body = {"model": "appliance", "stream": True, "messages": [
        {"role": "user", "content": "How many days of annual leave do full-time staff get?"}]}
    text = api("POST", "/v1/chat/completions", json=body).get_data(as_text=True)
    chunks = _chunks(text)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert "12.5" not in content  # no delta ever carried the misread figure
    final = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]][0]
    assert final["appliance"]["path"] in ("quoted", "refused") and final["appliance"]["reason"]
    assert content == final["appliance"]["answer"]
    assert ": checking" in text  # the connection is kept alive while the model writes


def test_a_user_over_the_api_rate_limit_gets_429_with_retry_after(world, api):
    from appliance.accounts import RateLimiter

    now = [1000.0]
    world.services.__dict__["rate_limits"] = RateLimiter({"request": 5, "chat": 2},
                                                         clock=lambda: now[0])
    try:
        body = {"model": "appliance", "messages": [{"role": "user", "content": "VPN?"}]}
        assert [api("POST", "/v1/chat/completions", json=body).status_code
                for _ in range(2)] == [200, 200]
        third = api("POST", "/v1/chat/completions", json=body)
        assert third.status_code == 429
        assert third.json["error"]["type"] == "rate_limit_error"
        assert "2 a minute" in third.json["error"]["message"]
        assert third.headers["Retry-After"] == "30"  # one chat token every 30 s
        # Other requests still pass, up to 5 a minute in all (the refused one counted).
        assert [api("GET", "/v1/models").status_code for _ in range(3)] == [200, 200, 429]
        bob = world.logged_in("bob")  # another user has buckets of his own
        page = bob.post("/account/tokens", data={"name": "bob-api"})
        bob_secret = re.search(r'id="new-token">([^<]+)<', page.text).group(1)
        assert world.app.test_client().get("/v1/models", headers={
            "Authorization": f"Bearer {bob_secret}"}).status_code == 200
        now[0] += 30
        assert api("POST", "/v1/chat/completions", json=body).status_code == 200
    finally:
        del world.services.__dict__["rate_limits"]
