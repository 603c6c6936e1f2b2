"""Synthesize → review → prepare: a training set made of exactly the pairs a reviewer kept."""
from __future__ import annotations

import json

import pytest

from appliance.cli import main

pytestmark = pytest.mark.slow


def test_synthesized_pairs_reach_training_only_when_accepted_or_edited(tmp_path, model_dir,
                                                                      capsys):
    from helpers import SAMPLES

    data = tmp_path / "data"
    data.mkdir()
    gguf = next(model_dir.glob("*.gguf"))
    (data / "appliance.toml").write_text(f'llm_model_path = "{gguf}"\n')
    base = ["--data-dir", str(data)]
    assert main(base + ["ingest", str(SAMPLES), "--collection", "handbook"]) == 0
    assert main(base + ["tune", "prepare", "--reviewed", "--name", "early"]) == 2
    assert "no reviewed synthetic pairs yet" in capsys.readouterr().err
    capsys.readouterr()
    assert main(base + ["tune", "synthesize", "--collection", "handbook", "--n", "5",
                        "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["made"] == 5 and report["answerable"] + report["unanswerable"] == 5
    assert main(base + ["review", "list", "--json", "--limit", "50"]) == 0
    queue = [e for e in json.loads(capsys.readouterr().out) if e["channel"] == "synth"]
    assert [e["id"] for e in queue] == report["ids"]
    for e in queue:
        assert e["shown"] and e["question"].endswith("?")
        if e["path"] == "refused":  # near misses: the source document is not among them
            assert e["answer"].startswith("I don't know")
        else:
            assert e["answer"].startswith("According to [1]:")
            assert e["citations"][0]["chunk_id"] == e["shown"][0]["chunk_id"]
    accepted, edited, rejected = queue[0], queue[1], queue[2]
    for entry, extra in ((accepted, []), (edited, ["--correction", "Corrected answer [1]."]),
                         (rejected, ["--reject"])):
        assert main(base + ["review", "label", str(entry["id"]), "correct", *extra]) == 0
    capsys.readouterr()
    assert main(base + ["review", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["accepted"], stats["edited"], stats["rejected"], stats["pending"]) == \
        (1, 1, 1, 2)
    assert stats["acceptance_rate"] == round(1 / 3, 4)
    assert main(base + ["tune", "prepare", "--reviewed", "--name", "reviewed",
                        "--eval-fraction", "0"]) == 0
    folder = data / "tuning" / "datasets" / "reviewed"
    rows = [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 2
    completions = sorted(r["completion"].strip() for r in rows)
    expected = sorted([accepted["answer"], "Corrected answer [1]."])
    assert completions == expected
    assert all(any(q["question"] in r["prompt"] for q in (accepted, edited)) for r in rows)
    assert rejected["question"] not in json.dumps(rows)
    # the synthetic pairs never count as answers users were given
    capsys.readouterr()
    assert main(base + ["advise", "--json", "--no-table"]) == 0
    assert json.loads(capsys.readouterr().out)["answers"] == 0
