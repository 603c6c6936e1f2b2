"""The failure audit and the advice over a seeded answer log; the automatic pre-labels; the
review queue's CLI from labelling to the exported training file."""
from __future__ import annotations

import json
import random
import time

import pytest

from appliance.cli import main
from appliance.evaluation import QualityService, Rules, failure_mix, prelabel


def row(i: int, label: str | None = None, **kw) -> dict:
    shown = kw.pop("shown", [{"chunk_id": i, "doc_name": "handbook.md",
                              "text": "Full-time staff receive 27 days of annual leave."}])
    check = kw.pop("check", {"model_refused": False, "supported": True, "best_score": 0.7})
    base = {"created_at": kw.pop("created_at", time.time() - 1000 + i), "channel": "web",
            "actor": "alice", "collections": "handbook",
            "question": kw.pop("question", f"How many days of annual leave, case {i}?"),
            "answer": kw.pop("answer", "Full-time staff get 27 days [1]."),
            "model_answer": kw.pop("model_answer", ""), "path": kw.pop("path", "generated"),
            "reason": kw.pop("reason", ""), "retrieved": "[]", "shown": json.dumps(shown),
            "citations": json.dumps(kw.pop("citations", [{"n": 1, "chunk_id": i,
                                                          "doc_name": "handbook.md"}])),
            "check_result": json.dumps(check), "timings": json.dumps(
                {"retrieve": 12.0, "first_token": 1500.0, "total": 2000.0,
                 "prompt_tokens": 400, "context_share": 0.4}),
            "model_sha256": "m" * 64, "label": label,
            "labelled_by": "rita" if label else None, "review": "accepted" if label else "pending"}
    base.update(kw)
    return base


def seed(app, mix: dict[str, int], correct: int = 0, unlabelled: int = 0, seed_: int = 0):
    labels = [k for k, n in mix.items() for _ in range(n)] + ["correct"] * correct \
        + [None] * unlabelled
    random.Random(seed_).shuffle(labels)
    for i, label in enumerate(labels):
        app.answer_log.record(row(i, label))
    return len(labels)


@pytest.mark.parametrize("mix, correct, expected", [
    ({"wrong_fact": 90, "retrieval_miss": 50, "wrong_format": 20, "wrong_tone": 10,
      "other": 5}, 40, "rag"),
    ({"wrong_format": 70, "wrong_tone": 40, "wrong_reasoning": 30, "wrong_fact": 25}, 50,
     "fine_tune"),
    ({"wrong_fact": 60, "retrieval_miss": 20, "wrong_format": 50, "wrong_reasoning": 40}, 40,
     "both"),
    ({"wrong_fact": 20, "wrong_format": 5}, 180, "not_enough_labels"),
])
def test_the_mix_its_intervals_and_the_recommendation(app_factory, mix, correct, expected):
    app = app_factory()
    total = seed(app, mix, correct, unlabelled=15)
    assert total >= 200
    advice = QualityService(app).advise(last=None, actor="tester", table=False)
    failures = sum(mix.values())
    assert (advice.answers, advice.labelled, advice.failures) == (total, total - 15, failures)
    for label, n in mix.items():
        part = advice.mix[label]
        assert part["count"] == n and part["share"] == round(n / failures, 4)
        lo, hi = part["interval"]
        assert lo < n / failures < hi
    assert advice.mix["correct"]["count"] == correct
    factual = mix.get("wrong_fact", 0) + mix.get("retrieval_miss", 0)
    assert advice.factual["count"] == factual
    assert advice.recommendation == expected
    if expected == "not_enough_labels":
        assert advice.needed == 30 - failures == 5 and "5 more needed" in advice.why
        assert advice.actions[0]["command"] == "appliance review next"
    elif expected == "rag":
        assert "at least 70% factual" in advice.why
        assert advice.actions[0]["topics"][0]["questions"] == factual
    elif expected == "fine_tune":
        fine = next(a for a in advice.actions if a["kind"] == "fine_tune")
        assert fine["corrections"] == 0 and "500: 500 more" in fine["thresholds"]
        assert "appliance tune prepare --feedback" in fine["command"]
    else:
        assert "neither reaches 70%" in advice.why
        assert {a["kind"] for a in advice.actions} == {"rag", "fine_tune"}
    [event] = [e for e in app.audit.events() if e.type == "quality.advise"]
    details = json.loads(event.details)
    assert details["failures"] == failures and details["recommendation"] == expected
    assert "How many" not in event.details  # counts, never text


def test_people_label_and_suggestions_count_only_when_asked(app_factory):
    app = app_factory()
    for i in range(40):  # refusals with nothing shown: every one is pre-labelled a miss
        app.answer_log.record(row(i, None, path="refused", answer="I don't know.",
                                  shown=[], citations=[]))
    app.answer_log.record(row(99, "wrong_format", path="refused", shown=[], citations=[]))
    quality = QualityService(app)
    people = quality.advise(last=None, table=False)
    assert (people.labelled, people.failures, people.sources) == (1, 1, {"reviewer": 1})
    assert people.recommendation == "not_enough_labels"
    machine = quality.advise(last=None, include_suggestions=True, table=False)
    assert machine.sources == {"reviewer": 1, "suggestion": 40}
    assert machine.mix["retrieval_miss"]["count"] == 40
    assert machine.mix["wrong_format"]["count"] == 1  # the reviewer's label won
    assert machine.recommendation == "rag"


def entry(**kw):
    from appliance.answering import LoggedAnswer

    data = row(1, **kw)
    return LoggedAnswer(1, data["created_at"], "web", "alice", None, "handbook",
                        data["question"], data["answer"], data["model_answer"], data["path"],
                        data["reason"], [], json.loads(data["shown"]),
                        json.loads(data["citations"]), json.loads(data["check_result"]), {}, "", None,
                        None, "", None, None, None, "pending")


def test_each_pre_label_rule_on_a_crafted_answer():
    rules = Rules(min_evidence=0.35, max_words=40)
    assert prelabel(entry(shown=[], path="refused"), rules)[0] == "retrieval_miss"
    label, why = prelabel(entry(path="refused", answer="I don't know: the documents do not "
                                "say.", check={"model_refused": True, "best_score": 0.8}), rules)
    assert label == "wrong_reasoning" and "0.80" in why
    # a refusal with no answering sentence: "not in the documents" or a miss, nobody can tell
    label, why = prelabel(entry(path="refused", check={"model_refused": True,
                                                       "best_score": 0.1}), rules)
    assert label is None and "retrieval miss if they do" in why
    label, why = prelabel(entry(path="quoted", check={"model_refused": False, "supported": True,
                                                      "best_score": 0.4}), rules)
    assert label == "wrong_fact" and "barely matches" in why
    label, why = prelabel(entry(answer="Full-time staff get 32 days [1]."), rules)
    assert label == "wrong_fact" and "32" in why
    assert prelabel(entry(answer="Full-time staff get 27 days.", citations=[]),
                    rules) == ("wrong_format", "the answer cites no source")
    long = "Full-time staff get 27 days [1]. " + "More words follow here. " * 12
    assert prelabel(entry(answer=long), rules)[0] == "wrong_format"
    german = "Vollzeitkräfte haben 27 Tage Urlaub, und das ist nicht wenig [1]."
    label, why = prelabel(entry(question="How many days of annual leave do the staff get?",
                                answer=german), rules)
    assert (label, why) == ("wrong_format", "answered in de, asked in en")
    assert prelabel(entry(), rules) == (None, "no rule applies")
    label, why = prelabel(entry(path="quoted", model_answer="12.5 days [4].",
                                reason="not in the cited passage: 12.5",
                                check={"model_refused": False, "supported": False,
                                       "best_score": 0.7}), rules)
    assert label is None and "the model's own answer was wrong fact" in why
    # words of the sources that answer something else are reasoning, not a fact invented
    label, why = prelabel(entry(path="quoted", model_answer="The team audits access weekly.",
                                check={"model_refused": False, "supported": False,
                                       "unsupported_reason": "the answer does not name what "
                                                             "the question asks for",
                                       "best_score": 0.7}), rules)
    assert label is None and "the model's own answer was wrong reasoning" in why


def test_the_mix_counts_user_votes_and_caught_model_failures():
    up = entry()
    down = entry()
    object.__setattr__(up, "feedback", {"rating": "up", "category": "correct"})
    object.__setattr__(down, "feedback", {"rating": "down", "category": "wrong_tone"})
    caught = entry(path="quoted", model_answer="12.5 days", check={
        "model_refused": False, "supported": False, "best_score": 0.7})
    advice = failure_mix([up, down, caught], min_failures=1)
    assert advice.mix["correct"]["count"] == 1 and advice.mix["wrong_tone"]["count"] == 1
    assert advice.sources == {"user": 2} and advice.caught == {"wrong_fact": 1}


@pytest.mark.slow
def test_review_queue_from_the_cli_to_a_training_file(tmp_path, model_dir, capsys):
    data = tmp_path / "data"
    base = ["--data-dir", str(data)]
    gguf = next(model_dir.glob("*.gguf"))
    data.mkdir()
    (data / "appliance.toml").write_text(f'llm_model_path = "{gguf}"\nmax_answer_tokens = 24\n')
    from helpers import SAMPLES

    assert main(base + ["ingest", str(SAMPLES)]) == 0
    for question in ("How many days of annual leave do full-time staff get?",
                     "What is the parking fee for visitors?"):
        assert main(base + ["ask", "--json", question]) == 0
    capsys.readouterr()
    assert main(base + ["review", "list", "--json"]) == 0
    queue = json.loads(capsys.readouterr().out)
    assert [e["channel"] for e in queue] == ["cli", "cli"]
    first = queue[0]
    assert first["retrieved"] and first["shown"] and first["timings"]["prompt_tokens"] > 0
    assert first["model_sha256"] and first["suggestion_reason"]
    assert main(base + ["review", "next"]) == 0
    shown = capsys.readouterr().out
    assert f"answer {first['id']}" in shown and "[1] (" in shown and "suggested:" in shown
    assert main(base + ["review", "label", str(first["id"]), "wrong_fact", "--correction",
                        "Full-time staff get 27 days of annual leave [1].", "--reviewer",
                        "rita"]) == 0
    assert main(base + ["review", "label", str(queue[1]["id"]), "correct", "--reviewer",
                        "rita"]) == 0
    assert main(base + ["review", "label", str(queue[1]["id"]), "great"]) == 2
    assert "label must be one of" in capsys.readouterr().err
    out = tmp_path / "corrections.jsonl"
    assert main(base + ["review", "export", "--out", str(out)]) == 0
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["corrected_answer"].startswith("Full-time staff get 27 days")
    assert record["answer_log_id"] == first["id"]
    assert record["context"] == [p["text"] for p in first["shown"]]
    assert main(base + ["tune", "prepare", "--feedback", str(out), "--name", "reviewed",
                        "--eval-fraction", "0"]) == 0
    capsys.readouterr()
    assert main(base + ["review", "list"]) == 0
    assert "nothing waiting for review" in capsys.readouterr().out
    assert main(base + ["advise", "--json"]) == 0
    advice = json.loads(capsys.readouterr().out)
    assert advice["labelled"] == 2 and advice["failures"] == 1
    training = next(r for r in advice["decision_table"] if r["factor"] == "training data at hand")
    assert training["value"].startswith("1 reviewed examples") and training["favours"] == "RAG"
    assert {r["factor"] for r in advice["decision_table"]} == {
        "knowledge update frequency", "primary failure type", "training data at hand",
        "latency", "data sensitivity", "cost"}
    from appliance.services import build_services
    from helpers import make_settings

    app = build_services(make_settings(data))
    try:
        labels = [json.loads(e.details) for e in app.audit.events() if e.type == "quality.label"]
        assert [(d["label"], d["review"]) for d in labels] == [("wrong_fact", "edited"),
                                                              ("correct", "accepted")]
    finally:
        app.close()


def test_compare_counts_the_same_questions_before_and_after_a_change(app_factory):
    app = app_factory()
    change = time.time() - 500
    for i in range(6):  # before the change: every answer a retrieval miss
        app.answer_log.record(row(i, "retrieval_miss", question=f"Question {i}?",
                                  created_at=change - 100 + i, path="refused"))
    for i in range(4):  # after it: the same first four questions, now mostly right
        app.answer_log.record(row(10 + i, "correct" if i else "wrong_fact",
                                  question=f"question {i}? ", created_at=change + 10 + i))
    app.answer_log.record(row(20, "wrong_tone", question="A new question?",
                              created_at=change + 30))
    result = QualityService(app).compare((None, change), (change, None))
    assert result["questions"] == 4  # asked in both windows (case and spaces aside)
    assert result["before"]["mix"]["retrieval_miss"] == 4 and result["before"]["failures"] == 4
    assert result["after"]["mix"]["wrong_fact"] == 1 and result["after"]["failures"] == 1
    assert result["after"]["mix"]["correct"] == 3
    assert result["before"]["paths"] == {"refused": 4}


def test_since_and_collection_narrow_the_audit(app_factory):
    from appliance.evaluation import parse_since

    app = app_factory()
    now = time.time()
    app.answer_log.record(row(1, "wrong_fact", created_at=now - 10 * 86400))
    app.answer_log.record(row(2, "wrong_tone", created_at=now - 3600, collections="hr"))
    app.answer_log.record(row(3, "wrong_format", created_at=now - 60, collections="hrx,it"))
    quality = QualityService(app)
    assert quality.advise(last=None, since=parse_since("7d"), table=False).failures == 2
    assert quality.advise(last=None, collection="hr", table=False).mix["wrong_tone"]["count"] == 1
    assert quality.advise(last=None, collection="hr", table=False).failures == 1
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        parse_since("last week")


def test_the_answer_log_follows_the_audit_retention(app_factory, tmp_path, capsys):
    app = app_factory(audit_retention_days=30)
    now = time.time()
    old = app.answer_log.record(row(1, "wrong_fact", created_at=now - 31 * 86400))
    kept = app.answer_log.record(row(2, "correct", created_at=now - 29 * 86400))
    (app.settings.data_dir / "appliance.toml").write_text("audit_retention_days = 30\n")
    assert main(["--data-dir", str(app.settings.data_dir), "audit", "prune"]) == 0
    assert "answer log: 1 answer(s) older than 30 days removed" in capsys.readouterr().out
    assert [e.id for e in app.answer_log.entries(last=None)] == [kept] != [old]


def test_relabel_makes_stale_pre_labels_again_and_keeps_peoples(app_factory, capsys):
    app = app_factory()
    stale = app.answer_log.record(row(1, None, shown=[], path="refused",
                                      suggestion="wrong_tone", suggestion_reason="old rules"))
    human = app.answer_log.record(row(2, "wrong_fact", shown=[], path="refused",
                                      suggestion="wrong_tone", suggestion_reason="old rules"))
    assert main(["--data-dir", str(app.settings.data_dir), "review", "relabel"]) == 0
    assert "2 pre-label(s) cleared; 2 answer(s) pre-labelled" in capsys.readouterr().out
    again = {e.id: e for e in app.answer_log.entries(last=None)}
    assert again[stale].suggestion == "retrieval_miss"  # nothing shown: the current rule
    assert again[human].label == "wrong_fact" and again[human].suggestion == "retrieval_miss"
