"""`eval retrieval` results kept per index build and compared with the previous build."""
from __future__ import annotations

import json

import pytest

from appliance.cli import main
from appliance.evaluation import retrieval_history as hist
from appliance.settings import load_settings


def test_a_run_is_compared_with_the_last_other_build_on_the_same_data(tmp_path):
    one = hist.build_of(load_settings(environ={}), "e" * 64)
    two = hist.build_of(load_settings({"chunk_size": 96}, environ={}), "e" * 64)
    assert one["id"] != two["id"] and one["chunk_size"] == 160
    assert hist.record(tmp_path, one, "data-1", {"ndcg@10": 0.60}) is None
    assert hist.record(tmp_path, one, "data-1", {"ndcg@10": 0.61}) is None  # same build
    assert hist.record(tmp_path, one, "data-2", {"ndcg@10": 0.30}) is None  # other data
    previous = hist.record(tmp_path, two, "data-1", {"ndcg@10": 0.65})
    assert previous["build"]["id"] == one["id"] and previous["metrics"]["ndcg@10"] == 0.61
    lines = hist.format_comparison(previous, two, {"ndcg@10": 0.65})
    assert "  chunk_size: 160 → 96" in lines and any("0.61 → 0.65 (+0.0400)" in x for x in lines)
    with open(tmp_path / hist.FILE, "a") as fh:
        fh.write('{"cut short')  # a crash mid-line loses that line only
    assert len(hist.history(tmp_path)) == 4


@pytest.mark.slow
def test_eval_retrieval_keeps_each_build_and_shows_what_a_settings_change_did(tmp_path, capsys):
    corpus = tmp_path / "corpus.jsonl"
    docs = {"d1": "Annual leave is 27 days for full-time staff.",
            "d2": "Passwords must be at least 14 characters long.",
            "d3": "Visitors sign in at reception and wear a badge."}
    corpus.write_text("".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n"
                              for k, v in docs.items()))
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"_id": "q1", "text": "how long must a password be"}) + "\n"
                       + json.dumps({"_id": "q2", "text": "days of annual leave"}) + "\n")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td1\t1\n")
    data = tmp_path / "data"
    args = ["--data-dir", str(data), "eval", "retrieval", "--corpus", str(corpus), "--queries",
            str(queries), "--qrels", str(qrels), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["previous"] is None and first["ndcg@10"] == 1.0
    (data / "appliance.toml").write_text('chunk_size = 64\nchunk_overlap = 8\n')
    assert main(args[:-1]) == 0
    text = capsys.readouterr().out
    assert f"compared with build {first['build']['id']}" in text
    assert "chunk_size: 160 → 64" in text and "chunk_overlap: 32 → 8" in text
    assert "ndcg@10  1.0 → 1.0 (+0.0000)" in text
    assert len(hist.history(data)) == 2
