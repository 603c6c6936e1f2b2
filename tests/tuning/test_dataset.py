"""tune prepare: record shapes, validation, redaction, deduplication, split, warnings."""
from __future__ import annotations

import json

import pytest

from appliance.tuning import TuningError
from appliance.tuning.dataset import chat_to_example, prepare


def write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def fake_redact(text: str) -> str:
    return text.replace("Alice Smith", "PERSON_1")


def fmt(question, context, answer):
    return f"CTX:{'|'.join(context)} Q:{question}\nAnswer:", f" {answer}\n"


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_prepare_normalises_validates_redacts_and_dedupes(tmp_path):
    src = write(tmp_path / "in.jsonl", [
        {"prompt": "Question: who signs?\nAnswer:", "completion": " Alice Smith [1].\n"},
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Who approves leave?"},
                      {"role": "assistant", "content": "Your manager."}]},
        {"prompt": "Question: who signs?\nAnswer:", "completion": " someone else\n"},  # dup
        {"prompt": "", "completion": "x"},
        {"messages": [{"role": "user", "content": "no answer turn"}]},
        "not json",
    ])
    feedback = write(tmp_path / "fb.jsonl", [
        {"question": "Where is Alice Smith based?", "context": ["Alice Smith works in Leeds."],
         "corrected_answer": "In Leeds [1]."},
        {"question": "What is the VPN?", "corrected_answer": "I don't know."},
        {"question": "missing answer"},
    ])
    out = prepare(tmp_path / "set", [src], [feedback], fake_redact, fmt, eval_fraction=0.25)
    assert (out.train, out.eval) == (3, 1)
    assert out.rejected == {"invalid": 4, "duplicate": 1}
    assert any("in.jsonl:4" in e for e in out.errors) and any("fb.jsonl:3" in e
                                                             for e in out.errors)
    rows = read(tmp_path / "set" / "train.jsonl") + read(tmp_path / "set" / "eval.jsonl")
    text = json.dumps(rows)
    assert "Alice Smith" not in text and "PERSON_1" in text  # the PII policy ran on both sides
    assert {r["origin"] for r in rows} == {"jsonl", "feedback"}
    chat = next(r for r in rows if "Who approves leave?" in r["prompt"])
    assert chat["prompt"] == "Be brief.\n\nQuestion: Who approves leave?\nAnswer:"
    assert chat["completion"] == " Your manager.\n"
    assert "below 500" in out.warnings[0] and "1,000 or more" in out.warnings[0]
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert manifest["data_sha256"] == out.data_sha256 and len(manifest["inputs"]) == 1


def test_split_is_stable_and_hash_tracks_content(tmp_path):
    rows = [{"prompt": f"Question: q{i}\nAnswer:", "completion": f" a{i}\n"} for i in range(40)]
    src = write(tmp_path / "in.jsonl", rows)
    one = prepare(tmp_path / "one", [src], [], str, eval_fraction=0.1, seed=3)
    two = prepare(tmp_path / "two", [src], [], str, eval_fraction=0.1, seed=3)
    assert (one.train, one.eval) == (36, 4) and one.data_sha256 == two.data_sha256
    assert read(tmp_path / "one" / "eval.jsonl") == read(tmp_path / "two" / "eval.jsonl")
    three = prepare(tmp_path / "three", [src], [], str, eval_fraction=0.1, seed=4)
    assert three.data_sha256 != one.data_sha256  # another seed, another split


def test_nothing_valid_is_an_error(tmp_path):
    src = write(tmp_path / "in.jsonl", ["[1, 2]", {"prompt": "p"}])
    with pytest.raises(TuningError, match="no valid training example"):
        prepare(tmp_path / "set", [src], [], str)
    with pytest.raises(TuningError, match="no such file"):
        prepare(tmp_path / "set", [tmp_path / "missing.jsonl"], [], str)


def test_chat_must_end_with_user_then_assistant():
    with pytest.raises(ValueError):
        chat_to_example([{"role": "assistant", "content": "hi"},
                         {"role": "user", "content": "?"}])


def test_feedback_becomes_an_appliance_prompt():
    from appliance.answering.prompts import PREAMBLE
    from appliance.evaluation.grounded_data import feedback_formatter

    fmt_real = feedback_formatter(lambda t: len(t.split()), 2048, 200)
    prompt, completion = fmt_real("Who approves travel?", ["Travel is approved by the COO."],
                                  "The COO [1].")
    assert prompt.startswith(PREAMBLE)
    assert prompt.endswith("[1] (context 1) Travel is approved by the COO.\n"
                           "Question: Who approves travel?\nAnswer:")
    assert completion == " The COO [1].\n"
