"""The quality audit on real answers: how well the automatic pre-labels agree with hand labels,
and whether the advice from them matches the advice from the hand-labelled mix.

    python benchmarks/quality_audit.py --data-dir D answers    # ~20 min on 2 cores
    python benchmarks/quality_audit.py --data-dir D export     # D/audit/answers.jsonl
    # label D/audit/answers.jsonl by hand (docs/quality.md, "Hand-labelling rules") into
    # D/audit/labels.jsonl: one {"id": N, "label": "..."} per answer
    python benchmarks/quality_audit.py --data-dir D score

`answers` ingests the handbook (samples/handbook, collection "handbook") and the passages of
160 CLAPnq questions (../shared/data/clapnq, collection "clapnq"; 80 answerable, 80
unanswerable, whose passages come from other questions) into the data dir and asks the 40
handbook questions of tests/data/handbook_qa.json and the 160 CLAPnq questions through the
default install's ask flow; every answer lands in the answer log. `export` writes each answer
with what a labeller needs (the question, the answer and the model's own words, the passages
shown, and the question's gold answer from the data), never the pre-label. `score` compares:
agreement of the pre-labels with the hand labels on the answers people called failures (target
≥ 85%), each rule's precision, and the recommendation from each.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

from _table import ROOT, report

CLAPNQ = ROOT.parent / "shared" / "data" / "clapnq"
HANDBOOK_QA = ROOT / "tests" / "data" / "handbook_qa.json"


def app_for(data: Path):
    from appliance.services import build_services
    from appliance.settings import load_settings

    return build_services(load_settings({"data_dir": str(data)}))


def questions(per_class: int = 80, seed: int = 0) -> list[dict]:
    qa = [json.loads(line) for line in (CLAPNQ / "qa.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    answerable = [q for q in qa if q["answerable"]]
    unanswerable = [q for q in qa if not q["answerable"]]
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    chosen = answerable[:per_class] + unanswerable[:per_class]
    out = [{"question": q["question"], "collection": "clapnq", "answerable": q["answerable"],
            "gold": q.get("answers") or [], "passages": q.get("gold_passage_ids") or [],
            "source": "clapnq"} for q in chosen]
    for q in json.loads(HANDBOOK_QA.read_text()):
        out.append({"question": q["question"], "collection": "handbook",
                    "answerable": q["answerable"], "gold": q.get("answer_contains") or [],
                    "passages": [], "source": "handbook"})
    return out


def stage_answers(data: Path) -> None:
    from tqdm import tqdm

    import subprocess

    subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data), "init"],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    items = questions()
    wanted = {p for q in items for p in q["passages"]}
    # unanswerable questions' passages: the gold passages of other answerable questions
    corpus = [json.loads(line) for line in (CLAPNQ / "corpus.jsonl").read_text().splitlines()]
    keep = [c for c in corpus if c["_id"] in wanted] + corpus[:80]
    app = app_for(data)
    files = ((f"{c['_id']}.md", f"# {c.get('title') or c['_id']}\n\n{c['text']}\n".encode())
             for c in keep)
    app.ingest.ingest_files(files, len(keep), "clapnq", True, None)
    app.ingest.ingest_paths([ROOT / "samples" / "handbook"], "handbook", progress=True)
    (data / "audit").mkdir(exist_ok=True)
    asked = []
    for q in tqdm(items, desc="asking", file=sys.stderr):
        answer = app.chat.ask(q["question"], collections={q["collection"]}, channel="eval")
        asked.append({**q, "log_id": answer.log_id})
    (data / "audit" / "questions.json").write_text(json.dumps(asked, indent=1))
    app.close()


def stage_export(data: Path) -> None:
    asked = {q["log_id"]: q for q in json.loads((data / "audit" / "questions.json").read_text())}
    app = app_for(data)
    rows = []
    for e in app.answer_log.entries(last=None, ids=list(asked)):
        q = asked[e.id]
        rows.append({"id": e.id, "question": e.question, "answer": e.answer, "path": e.path,
                     "model_answer": e.model_answer, "shown": [p["text"] for p in e.shown],
                     "gold_answerable": q["answerable"], "gold": q["gold"],
                     "source": q["source"]})
    out = data / "audit" / "answers.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} answers written to {out}")
    app.close()


def stage_score(data: Path) -> None:
    from appliance.evaluation import QualityService, failure_mix

    labels = {r["id"]: r["label"] for r in map(json.loads, (data / "audit" / "labels.jsonl")
                                                  .read_text().splitlines())}
    app = app_for(data)
    entries = QualityService(app).entries(None)
    entries = [e for e in entries if e.id in labels]
    failures = [e for e in entries if labels[e.id] != "correct"]
    agree = sum(1 for e in failures if e.suggestion == labels[e.id])
    rows = [("failures (hand)", len(failures), "", ""),
            ("pre-label agrees", agree, f"{100 * agree / max(1, len(failures)):.1f}%", "≥ 85%")]
    for rule in sorted({e.suggestion for e in entries if e.suggestion}):
        suggested = [e for e in entries if e.suggestion == rule]
        right = sum(1 for e in suggested if labels[e.id] == rule)
        rows.append((f"precision {rule}", len(suggested),
                     f"{100 * right / len(suggested):.1f}%", ""))
    import dataclasses

    hand = failure_mix([dataclasses.replace(e, label=labels[e.id]) for e in entries])
    machine = failure_mix([dataclasses.replace(e, label=e.suggestion or "correct")
                           for e in entries])
    rows.append(("advice (hand labels)", hand.failures, hand.recommendation, ""))
    rows.append(("advice (pre-labels)", machine.failures, machine.recommendation,
                 "match" if hand.recommendation == machine.recommendation else "differs"))
    report("quality_audit", rows, ("measure", "n", "value", "target"),
           {"hand_mix": {k: v["count"] for k, v in hand.mix.items()},
            "pre_label_mix": {k: v["count"] for k, v in machine.mix.items()},
            "confusion": Counter(f"{labels[e.id]}->{e.suggestion}" for e in entries)})
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stages", nargs="+", choices=("answers", "export", "score"))
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "quality-audit")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    for stage in args.stages:
        {"answers": stage_answers, "export": stage_export, "score": stage_score}[stage](
            args.data_dir)


if __name__ == "__main__":
    main()
