"""The `appliance` command as a user runs it: real process, real models, JSON shapes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, SAMPLES

pytestmark = pytest.mark.slow
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


def run(data_dir, *args, check=True, env=None):
    out = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data_dir), *args],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, **(env or {})})
    if check:
        assert out.returncode == 0, out.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, model_dir):
    data = tmp_path_factory.mktemp("cli-data")
    (data / "appliance.toml").write_text(
        f'llm_model_path = "{next(model_dir.glob("*.gguf"))}"\n')
    run(data, "init")
    run(data, "ingest", str(SAMPLES))
    return data


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "appliance", "--help"], capture_output=True,
                         text=True, check=True)
    for command in ("init", "ingest", "search", "ask", "docs", "reindex", "doctor", "eval"):
        assert command in out.stdout


def test_search_json_shape(data_dir):
    out = json.loads(run(data_dir, "search", "annual leave entitlement", "--k", "3",
                         "--json").stdout)
    assert len(out["results"]) == 3 and "total" in out["timings_ms"]
    first = out["results"][0]
    assert set(first) >= {"doc_id", "doc_name", "chunk_id", "page", "score", "text"}
    assert first["doc_name"] == "hr-leave-policy.pdf" and first["page"] == 1


def test_ask_json_shape(data_dir):
    out = json.loads(run(data_dir, "ask", "How long must a password be?", "--json").stdout)
    assert set(out) >= {"answer", "citations", "timings_ms", "tokens"}
    assert set(out["timings_ms"]) >= {"retrieve", "first_token", "total"}
    assert set(out["tokens"]) == {"prompt", "completion"}
    assert "14" in out["answer"]
    assert set(out["citations"][0]) >= {"n", "doc_id", "doc_name", "page", "chunk_id"}
    assert out["citations"][0]["doc_name"] == "it-security-policy.md"


def test_ask_streams_to_the_terminal(data_dir):
    out = run(data_dir, "ask", "How long must a password be?").stdout
    assert "14" in out and "[1] it-security-policy.md" in out


def test_the_issue_cases_in_the_cli_figures_quotes_refusals_and_a_follow_up(data_dir):
    """The 12.5-days misreading never reaches the terminal as the last word, a question the
    handbook cannot answer is refused, and `chat` reads a follow-up with the previous one."""
    leave = json.loads(run(data_dir, "ask", "How many days of annual leave do full-time staff "
                                            "get?", "--json").stdout)
    assert "27 days" in leave["answer"] and "12.5" not in leave["answer"]
    assert leave["path"] in ("generated", "quoted")
    parking = json.loads(run(data_dir, "ask", "What is the parking fee for visitors?",
                             "--json").stdout)
    assert parking["path"] == "refused" and parking["citations"] == []
    chat = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data_dir), "chat"],
                          input="How many days of annual leave do full-time staff get?\n"
                                "And who approves it?\n\n",
                          capture_output=True, text=True, timeout=600)
    assert chat.returncode == 0, chat.stderr[-2000:]
    second = chat.stdout.split("? ")[2]  # what was printed for the follow-up
    assert "line manager" in second.lower() and "hr-leave-policy.pdf" in second


def test_docs_list_delete_and_doctor(data_dir, tmp_path):
    extra = tmp_path / "memo.txt"
    extra.write_text("The parking office is in building C.\n")
    run(data_dir, "ingest", str(extra), "--collection", "misc")
    docs = json.loads(run(data_dir, "docs", "list", "--json").stdout)["documents"]
    memo = next(d for d in docs if d["name"] == "memo.txt")
    assert memo["collection"] == "misc" and memo["chunks"] == 1
    assert "deleted" in run(data_dir, "docs", "delete", str(memo["id"])).stdout
    missing = run(data_dir, "docs", "delete", str(memo["id"]), check=False)
    assert missing.returncode == 2 and "no document" in missing.stderr
    assert "Traceback" not in missing.stderr
    doctor = json.loads(run(data_dir, "doctor", "--json").stdout)
    assert doctor["ok"] and all(m["ok"] for m in doctor["models"])
    assert run(data_dir, "reindex").stdout.startswith("reindexed")
    assert run(data_dir, "audit", "verify").stdout.startswith("OK")


def test_doctor_reports_a_tampered_model(tmp_path, model_dir):
    fake = tmp_path / "models" / "gemma-3-270m-q4_k_m.gguf"
    fake.parent.mkdir()
    fake.write_bytes(b"GGUF not really")
    out = run(tmp_path, "doctor", check=False)
    assert out.returncode == 1 and "does not match the manifest" in out.stdout


def test_ask_on_a_data_dir_that_never_ran_init_answers(tmp_path):
    # A new data dir has no model file yet: ask writes the bundled one instead of a traceback.
    run(tmp_path, "ingest", str(SAMPLES / "hr-leave-policy.pdf"))
    out = run(tmp_path, "ask", "--json", "How many days of annual leave do full-time staff get?")
    assert "27" in json.loads(out.stdout)["answer"]
    assert (tmp_path / "models" / "gemma-3-270m-q4_k_m.gguf").is_file()
    out = run(tmp_path, "ask", "How long is maternity leave?", check=False,
              env={"APPLIANCE_LLM_MODEL_PATH": str(tmp_path / "gone.gguf")})
    assert out.returncode != 0 and "model file not found" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_settings_are_a_clear_error(tmp_path):
    out = run(tmp_path, "docs", "list", check=False, env={"APPLIANCE_CHUNK_SIZE": "lots"})
    assert out.returncode == 2 and "chunk_size" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(not SCIFACT.exists(), reason="shared/data/scifact not present")
def test_eval_retrieval_on_a_scifact_slice(tmp_path):
    qrels = [line.split("\t") for line in (SCIFACT / "qrels.tsv").read_text().splitlines()[1:]]
    queries = {q for q, _, _ in qrels[:25]}
    wanted = {d for q, d, _ in qrels if q in queries}
    corpus = tmp_path / "corpus.jsonl"
    with open(SCIFACT / "corpus.jsonl") as src, open(corpus, "w") as dst:
        for i, line in enumerate(src):
            rec = json.loads(line)
            if rec["_id"] in wanted or i < 150:
                dst.write(line)
    qfile = tmp_path / "queries.jsonl"
    qfile.write_text("".join(line + "\n" for line in
                             (SCIFACT / "queries.jsonl").read_text().splitlines()
                             if json.loads(line)["_id"] in queries))
    qrel = tmp_path / "qrels.tsv"
    qrel.write_text("query-id\tcorpus-id\tscore\n" +
                    "".join("\t".join(r) + "\n" for r in qrels if r[0] in queries))
    out = json.loads(run(tmp_path / "d", "eval", "retrieval", "--corpus", str(corpus),
                         "--queries", str(qfile), "--qrels", str(qrel), "--json").stdout)
    assert set(out) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "queries", "build",
                        "previous"}
    assert out["previous"] is None and len(out["build"]["embedder_sha256"]) == 64
    assert out["queries"] == len(queries)
    assert out["ndcg@10"] > 0.6 and out["recall@100"] > 0.9


SQUAD = ROOT.parent / "shared" / "data" / "squad"


@pytest.mark.skipif(not SQUAD.exists(), reason="shared/data/squad not present")
def test_eval_answers_scores_gold_answers_and_refusals(tmp_path, model_dir):
    """A plain {question, answers, gold_passage_ids, answerable} file over a SQuAD slice:
    questions on an article left out of the corpus must come back refused."""
    qa = [json.loads(line) for line in (SQUAD / "qa.jsonl").read_text().splitlines()]
    corpus = [json.loads(line) for line in (SQUAD / "corpus.jsonl").read_text().splitlines()]
    inside = [q for q in qa if q["gold_passage_ids"][0].startswith("Montana#")][:6]
    outside = [dict(q, answerable=False, answers=[], gold_passage_ids=[])
               for q in qa if q["gold_passage_ids"][0].startswith("IPod#")][:3]
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(q) + "\n" for q in inside + outside))
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus
                                                 if d["_id"].startswith("Montana#")))
    data = tmp_path / "d"
    data.mkdir()
    (data / "appliance.toml").write_text(
        f'llm_model_path = "{next(model_dir.glob("*.gguf"))}"\n')
    out = json.loads(run(data, "eval", "answers", "--qa", str(tmp_path / "qa.jsonl"),
                         "--corpus", str(tmp_path / "docs.jsonl"), "--json").stdout)
    summary, records = out["summary"], out["questions"]
    assert summary["answerable"] == 6 and summary["unanswerable"] == 3 and len(records) == 9
    assert sum(summary["paths"].values()) == 9
    assert summary["refusal_accuracy"] >= 2 / 3, [r["answer"] for r in records[6:]]
    assert summary["unsupported_figure_rate"] == 0.0
    for r in records:
        assert r["path"] in ("generated", "quoted", "refused")
        assert r["refused"] == (r["path"] == "refused")
        if r["contains_gold"]:
            assert r["f1"] > 0 and not r["refused"]
    assert out["tradeoff"] and {"min_evidence", "answered", "refusal_accuracy"} <= \
        set(out["tradeoff"][0])
    text = run(data, "eval", "answers", "--qa", str(tmp_path / "qa.jsonl"),
               "--corpus", str(tmp_path / "docs.jsonl"), "--limit", "2").stdout
    assert "contains_gold" in text and "refusal_accuracy" in text


def test_eval_answers_reports_bad_input_clearly(tmp_path):
    missing = run(tmp_path / "d", "eval", "answers", "--qa", str(tmp_path / "none.jsonl"),
                  check=False)
    assert missing.returncode != 0 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    (tmp_path / "qa.jsonl").write_text('{"question": "x"\n')
    (tmp_path / "corpus.jsonl").write_text('{"_id": "a", "text": "b"}\n')
    bad = run(tmp_path / "d", "eval", "answers", "--qa", str(tmp_path / "qa.jsonl"), check=False)
    assert bad.returncode != 0 and "invalid JSON" in bad.stderr and "Traceback" not in bad.stderr


def test_sources_and_erase_as_an_operator_runs_them(tmp_path, model_dir):
    data = tmp_path / "data"
    data.mkdir()
    (data / "appliance.toml").write_text(
        f'llm_model_path = "{next(model_dir.glob("*.gguf"))}"\n')
    run(data, "init")
    share = tmp_path / "share"
    share.mkdir()
    (share / "ward.md").write_text("# Ward\n\nPatient reference QX4471ZB is on ward 7.\n\n"
                                   "Visiting hours end at 8 pm.\n")
    out = run(data, "sources", "add", str(share), "--collection", "wards", "--json")
    assert json.loads(out.stdout.splitlines()[-1])["sources"][0]["added"] == 1
    listed = json.loads(run(data, "sources", "list", "--json").stdout)["sources"]
    assert listed[0]["indexed"] == 1 and listed[0]["collection"] == "wards"
    (share / "rota.md").write_text("# Rota\n\nThe porter starts at 10 pm.\n")
    dry = json.loads(run(data, "sources", "sync", "--dry-run", "--json").stdout)
    assert dry["dry_run"] and dry["sources"][0]["added"] == 1
    assert "rota.md" not in run(data, "docs", "list").stdout  # a dry run changes nothing
    plan = json.loads(run(data, "erase", "--subject", "QX4471ZB", "--dry-run", "--json").stdout)
    assert plan["would_remove"]["chunks"] == 1
    refused = run(data, "erase", "--subject", "QX4471ZB", check=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr  # no tty: no silent erasure
    done = json.loads(run(data, "erase", "--subject", "QX4471ZB", "--yes", "--json").stdout)
    assert not any(done["remaining"].values())
    check = run(data, "audit", "verify-erasure", done["report"])
    assert check.stdout.startswith("OK: erasure of a subject")
    assert "QX4471ZB" not in run(data, "search", "patient reference ward", "--json").stdout
    bad = run(data, "erase", "--document", "999", check=False)
    assert bad.returncode != 0 and "no document with id 999" in bad.stderr
