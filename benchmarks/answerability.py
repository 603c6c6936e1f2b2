"""Can the evidence tell an answerable question from one the documents cannot answer? No model.

    python benchmarks/answerability.py [--sets clapnq squad handbook]     # ~4 min on 2 cores

The appliance refuses when the best sentence of the shown passages scores below
`answer_min_evidence`, so the refusal can be no better than that score's power to tell the two
kinds of question apart. This measures it for each signal the box has, on the questions
benchmarks/answers.py asks (the same seeded `dev` and `test` samples) and on `more`, further
questions outside both (CLAPnq: 100 + 100; SQuAD: 200 answerable + 100 on the articles left
out of the index), plus the handbook's 30 + 10 (tests/data/handbook_qa.json):

- keywords: the weighted share of the question's content words the sentence holds;
- meaning: the embedder's cosine between question and sentence;
- decision: their even mix, which picks the best sentence and which the refusal reads;
- meaning 4:1: 0.8 x meaning + 0.2 x keywords, tried as the refusal's score on 2026-12-07
  (docs/performance.md: better AUC on CLAPnq, but the handbook's unanswerable questions were
  answered more at any threshold that kept CLAPnq's answerable ones answered).

Per signal: AUC (answerable above unanswerable), and the share of unanswerable questions
refused at the threshold that keeps 0.85 of answerable ones answered (the issue's operating
point; the threshold is chosen on that very sample, so it is a best case). For the decision,
also answered / refused at the installed `answer_min_evidence` (the model's own refusals and
answers, which benchmarks/answers.py includes, move these). For short-answer sets, how
often the best sentence holds the gold answer. Retrieval, redaction and sentence scoring are
the pipeline's own (build_services, the default policy); only the model is left out, so a
model's refusal or a generated answer does not enter (benchmarks/answers.py measures those).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _table import ROOT, report
from answers import DATA, _jsonl, _write, shuffled, squad_parts

SIGNALS = ("keywords", "meaning", "decision", "meaning 4:1")
# Where each sample sits in benchmarks/answers.py's seeded orders: dev and test are its
# samples, more the questions after them.
CLAPNQ = {"dev": (0, 30), "test": (30, 60), "more": (60, 160)}
SQUAD = {"dev": ((0, 50), (0, 25)), "test": ((50, 100), (25, 50)), "more": ((100, 300), (50, 150))}


def clapnq(tmp: Path) -> tuple[dict[str, list[dict]], Path | None, str]:
    qa = _jsonl(DATA / "clapnq" / "qa.jsonl")
    yes = shuffled([q for q in qa if q["answerable"]], 21)
    no = shuffled([q for q in qa if not q["answerable"]], 22)
    return ({k: yes[a:b] + no[a:b] for k, (a, b) in CLAPNQ.items()},
            DATA / "clapnq" / "corpus.jsonl", "")


def squad(tmp: Path) -> tuple[dict[str, list[dict]], Path | None, str]:
    inside, outside, docs = squad_parts()
    inside, outside = shuffled(inside, 19), shuffled(outside, 20)
    return ({k: inside[slice(*a)] + outside[slice(*b)] for k, (a, b) in SQUAD.items()},
            _write(tmp / "squad-corpus.jsonl", docs), "short")


def handbook(tmp: Path) -> tuple[dict[str, list[dict]], Path | None, str]:
    qa = json.loads((ROOT / "tests" / "data" / "handbook_qa.json").read_text())
    return {"all": [{"question": q["question"], "answerable": q["answerable"],
                     "answers": q.get("answer_contains") or []} for q in qa]}, None, "short"


def score_questions(samples: dict[str, list[dict]], corpus: Path | None, name: str,
                    tmp: Path) -> dict[str, list[dict]]:
    """Per sample, per question: each signal of the best sentence, and whether it holds gold.
    `corpus`: a BEIR corpus.jsonl ingested as `eval answers` does; None: samples/handbook."""
    import dataclasses

    from tqdm import tqdm

    from appliance.answering.evidence import EvidenceFinder
    from appliance.evaluation.answer_eval import contains_gold
    from appliance.evaluation.retrieval_eval import corpus_files
    from appliance.services import build_services
    from appliance.settings import load_settings

    app = build_services(dataclasses.replace(load_settings(), data_dir=tmp / "data",
                                             database_url=""))
    if corpus is not None:
        count = sum(1 for _ in corpus_files(corpus))
        app.ingest.ingest_files(corpus_files(corpus), count, name, True, None)
    else:
        app.ingest.ingest_paths([ROOT / "samples" / "handbook"], name, progress=True)
    redactor, embed = app.redactor, app.embedder.embed_query
    finder = EvidenceFinder(embed)

    out = {}
    for sample, questions in samples.items():
        rows = []
        for q in tqdm(questions, desc=f"{name} {sample}", file=sys.stderr):
            question = redactor.redact(q["question"], "prompt").text
            hits = app.retriever.search(question).hits
            texts = [redactor.redact(h.text, "context").text for h in hits]
            shown = [t for _, t in finder.select(question, texts)] if texts else []
            ranked = finder.ranked(question, shown, rescore_only=False) if shown else []
            row = {"answerable": q["answerable"], **{s: 0.0 for s in SIGNALS}, "gold": False}
            if ranked:
                best = ranked[0]
                meaning = float(embed(question) @ embed(best.sentence))
                keywords = 2 * best.score - meaning  # the even mix, undone
                row.update({"keywords": keywords, "meaning": meaning, "decision": best.score,
                            "meaning 4:1": 0.8 * meaning + 0.2 * keywords,
                            "gold": contains_gold(best.sentence, q.get("answers") or [])})
            rows.append(row)
        out[sample] = rows
    app.close()
    return out


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 3)


def at_answered(pos: list[float], neg: list[float], answered: float = 0.85) -> float | None:
    """Share of `neg` refused at the threshold that keeps `answered` of `pos` answered."""
    if not pos or not neg:
        return None
    threshold = sorted(pos)[int(len(pos) * (1 - answered))]
    return round(sum(n < threshold for n in neg) / len(neg), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["clapnq", "squad", "handbook"],
                        choices=("clapnq", "squad", "handbook"))
    args = parser.parse_args()
    from appliance.settings import load_settings

    floor = load_settings().answer_min_evidence
    rows, detail = [], {}
    for name in args.sets:
        with tempfile.TemporaryDirectory(prefix="answerability-") as tmp:
            samples, corpus, kind = {"clapnq": clapnq, "squad": squad,
                                     "handbook": handbook}[name](Path(tmp))
            scored = score_questions(samples, corpus, name, Path(tmp))
        detail[name] = scored
        for sample, qs in scored.items():
            yes = [r for r in qs if r["answerable"]]
            no = [r for r in qs if not r["answerable"]]
            for signal in SIGNALS:
                pos, neg = [r[signal] for r in yes], [r[signal] for r in no]
                installed = ""
                if signal == "decision":
                    installed = (f"{sum(p >= floor for p in pos) / len(pos):.2f} / "
                                 f"{sum(n < floor for n in neg) / max(1, len(neg)):.2f}")
                rows.append((name, sample, f"{len(yes)}+{len(no)}", signal, auc(pos, neg),
                             at_answered(pos, neg), installed,
                             round(sum(r["gold"] for r in yes) / len(yes), 2)
                             if kind == "short" and signal == "decision" else ""))
    report("answerability", rows, ("set", "sample", "questions", "signal", "AUC",
                                   "refused @ 0.85 answered", f"answered / refused @ {floor}",
                                   "best sentence holds gold"), {"questions": detail})


if __name__ == "__main__":
    main()
