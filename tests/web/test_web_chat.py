"""The web chat over HTTP: streamed answers, citations, refusals, conversations, feedback,
stop/disconnect, and the queue a waiting user sees."""
import json
import threading
import time

from sqlalchemy import select
from webtools import done_event, parse_sse

from appliance.answering.prompts import REFUSAL
from appliance.store.account_tables import FeedbackTable, MessageTable


def test_answer_streams_with_numbered_citations_and_is_kept(world):
    carol = world.logged_in("carol")
    events = carol.ask("What is the minimum length for my hospital password?")
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[1] == "start" and names[-1] == "done"
    assert names.count("token") >= 3  # streamed piece by piece
    done = done_event(events)
    assert "14 characters" in done["answer"] and not done["refused"]
    cite = done["citations"][0]
    assert cite["n"] == 1 and cite["doc_name"] == "it-security-policy.md"
    assert "14 characters" in cite["text"]
    conv_id = events[0][1]["conversation_id"]

    page = carol.get(f"/chat/{conv_id}")
    assert page.status_code == 200
    assert "14 characters" in page.text and "it-security-policy.md" in page.text
    assert f'/documents/{cite["doc_id"]}#chunk-{cite["chunk_id"]}' in page.text
    passage = carol.get(f'/documents/{cite["doc_id"]}')  # where the citation opens
    assert f'id="chunk-{cite["chunk_id"]}"' in passage.text and "14 characters" in passage.text

    # The same conversation continues; another user cannot open it.
    more = carol.ask("And how often must it change?", conversation_id=conv_id)
    assert more[0][1]["conversation_id"] == conv_id
    assert world.logged_in("alice").get(f"/chat/{conv_id}").status_code == 404


def test_a_replaced_answer_is_shown_and_kept_as_a_quote(world):
    carol = world.logged_in("carol")
    events = carol.ask("How many days of annual leave do full-time staff get?")
    done = done_event(events)
    assert "27 days" in done["answer"] and "12.5" not in done["answer"]
    assert done["path"] in ("generated", "quoted")
    page = carol.get(f"/chat/{events[0][1]['conversation_id']}").text
    assert "27 days" in page
    if done["path"] == "quoted":
        assert done["reason"] and "Quoted from the source" in page
        with world.services.store.session() as sess:
            row = sess.get(MessageTable, done["message_id"])
            assert row.path == "quoted" and row.path_reason == done["reason"]


def test_not_in_the_documents_is_a_clear_answer(world):
    nobody = world.logged_in("nobody")  # reads no collection: nothing to answer from
    page = nobody.get("/chat")
    assert "cannot read any collection" in page.text
    done = done_event(nobody.ask("What is the minimum password length?"))
    assert done["refused"] and done["answer"] == REFUSAL and done["citations"] == []
    assert world.fake.started == 0  # the model was not even asked


def test_feedback_is_stored_for_evaluation_and_tuning(world):
    carol = world.logged_in("carol")
    done = done_event(carol.ask("Which VPN should I use from home?"))
    mid = done["message_id"]
    bad = carol.post(f"/chat/messages/{mid}/feedback",
                     json={"rating": "down", "category": "made_up"})
    assert bad.status_code == 400 and "category" in bad.json["error"]
    ok = carol.post(f"/chat/messages/{mid}/feedback",
                    json={"rating": "down", "category": "wrong_fact",
                          "correction": "Use SecureLink; call Jane Smith on 555-0100."})
    assert ok.status_code == 200 and ok.json == {"ok": True}
    examples = {e["message_id"]: e for e in world.services.conversations.feedback_examples()}
    example = examples[mid]
    assert example["rating"] == "down" and example["category"] == "wrong_fact"
    assert "VPN" in example["question"] and "SecureLink" in example["correction"]
    assert "555-0100" not in example["correction"]  # the PII policy applies to what is kept
    # Someone else cannot rate carol's answer.
    other = world.logged_in("alice").post(f"/chat/messages/{mid}/feedback",
                                          json={"rating": "up"})
    assert other.status_code == 404
    # A plain form post (no JavaScript) works too and goes back to the conversation.
    form = carol.post(f"/chat/messages/{mid}/feedback",
                      data={"rating": "up", "csrf_token": carol.csrf}, csrf=False)
    assert form.status_code == 303 and "/chat/" in form.headers["Location"]
    with world.services.store.session() as sess:
        assert sess.scalars(select(FeedbackTable.rating)
                            .where(FeedbackTable.message_id == mid)).all() == [1]


def test_every_web_answer_is_logged_with_its_passages_and_the_users_vote(world):
    carol = world.logged_in("carol")
    done = done_event(carol.ask("What is the minimum password length?"))
    [logged] = [e for e in world.services.answer_log.entries(last=20)
                if e.message_id == done["message_id"]]
    assert (logged.channel, logged.actor, logged.path) == ("web", "carol", done["path"])
    assert logged.answer == done["answer"] and "password" in logged.question
    assert logged.retrieved and all("score" in h for h in logged.retrieved)
    assert logged.shown and logged.timings["total"] > 0 and logged.feedback is None
    assert logged.collections == "handbook,notes"
    carol.post(f"/chat/messages/{done['message_id']}/feedback",
               json={"rating": "down", "category": "wrong_tone"})
    again = world.services.answer_log.get(logged.id)
    assert again.feedback["rating"] == "down" and again.human_label == "wrong_tone"


def test_bad_questions_get_clear_errors(world):
    carol = world.logged_in("carol")
    assert carol.post("/chat/ask", json={"question": "  "}).status_code == 400
    assert carol.post("/chat/ask", json={"question": "x" * 5000}).status_code == 400
    refused = carol.post("/chat/ask", json={"question": "codes?", "collections": ["beta"]})
    assert refused.status_code == 403 and "beta" in refused.json["error"]
    assert carol.post("/chat/ask", data="nope").status_code == 400
    assert carol.post("/chat/ask", json={"question": "q", "conversation_id": 99999}) \
        .status_code == 404


def test_closing_the_stream_cancels_the_generation(world):
    world.fake.delay = 0.05
    carol = world.logged_in("carol")
    before = world.services.metrics.asks.value(outcome="cancelled")
    response = carol.ask_open("What is the minimum length for my hospital password?")
    chunks = iter(response.response)
    seen = ""
    while seen.count("event: token") < 2:
        seen += next(chunks).decode()
    response.close()  # what the server does when the browser's connection drops
    assert world.fake.closed_early == 1 and world.fake.finished == 0
    assert world.services.queue.snapshot() == (0, 0)  # the model is free again
    assert world.services.metrics.asks.value(outcome="cancelled") == before + 1
    cancel = [e for e in world.services.audit.events() if e.type == "chat.cancel"][-1]
    assert cancel.actor == "carol" and json.loads(cancel.details)["stage"] == "generating"
    conv_id = parse_sse(seen)[0][1]["conversation_id"]
    with world.services.store.session() as sess:
        kept = sess.scalars(select(MessageTable).where(
            MessageTable.conversation_id == conv_id, MessageTable.role == "assistant")).one()
    assert kept.status == "cancelled" and kept.content  # the part the user saw


def test_a_waiting_user_sees_their_place(world):
    world.fake.delay = 0.15
    carol, audrey = world.logged_in("carol"), world.logged_in("audrey")
    first = carol.ask_open("What is the minimum length for my hospital password?")
    chunks = iter(first.response)
    head = ""
    while "event: token" not in head:
        head += next(chunks).decode()
    results = {}
    thread = threading.Thread(target=lambda: results.update(
        events=audrey.ask("How long before the screen locks?")))
    thread.start()
    deadline = time.time() + 10
    while world.services.queue.snapshot()[0] == 0 and time.time() < deadline:
        time.sleep(0.02)
    assert world.services.queue.snapshot() == (1, 1)
    rest = head + b"".join(chunks).decode()
    first.close()
    thread.join(30)
    events = results["events"]
    queue_events = [data for name, data in events if name == "queue"]
    assert queue_events and queue_events[0]["position"] == 1
    start = next(data for name, data in events if name == "start")
    assert start["queue_wait_ms"] > 100
    assert done_event(parse_sse(rest))["answer"] and done_event(events)["answer"]


def test_a_full_queue_answers_503(world):
    world.fake.delay = 0.2
    queue = world.services.queue
    holders = [queue.join("someone") for _ in range(queue.limit + 1)]
    try:
        response = world.logged_in("carol").post("/chat/ask", json={"question": "hi there"})
        assert response.status_code == 503 and "busy" in response.json["error"]
    finally:
        for ticket in holders:
            queue.release(ticket)


def test_conversations_can_be_deleted_only_by_their_owner(world):
    carol = world.logged_in("carol")
    conv_id = carol.ask("Which VPN should I use?")[0][1]["conversation_id"]
    assert world.logged_in("bob").post(f"/chat/{conv_id}/delete").status_code == 404
    assert carol.post(f"/chat/{conv_id}/delete").status_code == 303
    assert carol.get(f"/chat/{conv_id}").status_code == 404
