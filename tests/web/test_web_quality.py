"""The Quality page and the review queue over HTTP: roles, labelling and correcting, the
advice and its plot served by the appliance itself."""
import re

from webtools import done_event


def test_only_admins_and_reviewers_open_the_quality_pages(world):
    for name in ("carol", "audrey"):
        user = world.logged_in(name)
        assert user.get("/quality").status_code == 403
        assert user.get("/quality/review").status_code == 403
        assert user.get("/quality/mix.svg").status_code == 403
        assert user.post("/quality/review/1", data={"label": "correct"}).status_code == 403
    rita = world.logged_in("rita")
    assert rita.get("/quality").status_code == 200
    assert "/quality" in rita.get("/chat").text  # the menu shows it to her
    assert 'href="/quality"' not in world.logged_in("carol").get("/chat").text


def test_a_reviewer_labels_and_corrects_the_queue_and_the_advice_counts_it(world):
    carol = world.logged_in("carol")
    done = done_event(carol.ask("How long must a password be?"))
    carol.post(f"/chat/messages/{done['message_id']}/feedback",
               json={"rating": "down", "category": "wrong_format"})
    rita = world.logged_in("rita")
    first = rita.get("/quality/review").text
    queued = world.services.answer_log.get(
        int(re.search(r'id="review-entry" data-id="(\d+)"', first).group(1)))
    assert queued.feedback["rating"] == "down"  # down-voted answers come first
    [logged] = [e for e in world.services.answer_log.entries(last=50)
                if e.message_id == done["message_id"]]
    entry = logged.id
    page = rita.get(f"/quality/review?id={entry}").text
    assert f'data-id="{entry}"' in page
    assert "How long must a password be?" in page and "Sources shown" in page
    assert "the user voted down (wrong format)" in page
    response = rita.post(f"/quality/review/{entry}", data={
        "label": "wrong_format", "action": "edit",
        "correction": "Passwords must be at least 14 characters [1]; call Jane Smith on "
                      "555-0100."})
    assert response.status_code == 303
    after = rita.get(response.headers["Location"]).text
    assert f"answer {entry}: wrong_format (edited)" in after
    labelled = world.services.answer_log.get(entry)
    assert labelled.label == "wrong_format" and labelled.labelled_by == "rita"
    assert "14 characters" in labelled.correction and "555-0100" not in labelled.correction
    bad = rita.post(f"/quality/review/{entry}", data={"label": "nonsense"})
    assert bad.status_code == 400 and "label must be one of" in bad.text
    empty = rita.post(f"/quality/review/{entry}", data={"label": "wrong_fact",
                                                       "action": "edit"})
    assert empty.status_code == 400 and "corrected answer" in empty.text
    quality = rita.get("/quality").text
    assert 'src="/quality/mix.svg"' in quality and "Failure mix" in quality
    assert "knowledge update frequency" in quality and "Advice:" in quality
    svg = rita.get("/quality/mix.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.text.startswith("<svg") and "wrong format: 1" in svg.text
    assert "<script" not in svg.text and "http://" not in svg.text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    events = [e for e in world.services.audit.events() if e.type == "quality.label"]
    assert events and events[-1].actor == "rita"
