"""`appliance eval answers`: ingest a corpus into a throwaway data dir and score the answers.

Questions come as JSONL, one `{question, answers, gold_passage_ids, answerable}` per line (the
CLAPnq layout in ../shared/data is exactly this, with an `id`); the corpus is a BEIR
corpus.jsonl (`_id`, `title`, `text`), by default the one beside the questions. Each question
is asked through the same ChatService the web chat uses (retrieval, prompt, generation, the
support check) and scored as a user would judge the answer:

- contains_gold: the answer holds a gold answer (SQuAD normalisation: case, punctuation,
  articles), whether generated or quoted;
- f1: token F1 against the best gold answer (a refusal scores 0);
- cites_gold: the first citation is a gold passage;
- path: generated, quoted or refused (and why);
- unsupported_figure: the answer holds a figure (number, amount, date, code) found neither in
  the question nor in the passage it cites: the worst thing the appliance can show.
"""
from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from tqdm import tqdm

from ..answering import (Evidence, Verdict, decide, quote, units, with_parts,
                         without_markers)
from ..engines import assemble_generator
from ..errors import ApplianceError
from ..settings import Settings
from .answers import normalize, token_f1
from .retrieval_eval import corpus_files, read_jsonl


@dataclasses.dataclass(frozen=True)
class QAQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]  # passage ids
    answerable: bool


def read_questions(path: Path) -> list[QAQuestion]:
    out = []
    for number, rec in enumerate(read_jsonl(path), start=1):
        question = rec.get("question") if isinstance(rec, dict) else None
        if not isinstance(question, str) or not question.strip():
            raise ApplianceError(f"{path}: record {number} has no question")
        answers = tuple(str(a) for a in rec.get("answers") or ())
        answerable = bool(rec.get("answerable", bool(answers)))
        out.append(QAQuestion(str(rec.get("id", number)), question.strip(), answers,
                              tuple(str(p) for p in rec.get("gold_passage_ids") or ()),
                              answerable))
    if not out:
        raise ApplianceError(f"{path}: no questions")
    return out


def contains_gold(answer: str, references: Sequence[str]) -> bool:
    text = " " + " ".join(normalize(answer)) + " "
    return any(" " + " ".join(normalize(ref)) + " " in text for ref in references
               if normalize(ref))


def unsupported_figures(answer: str, question: str, cited: str) -> list[str]:
    """Figures of the answer that neither the question nor the cited passage holds (a full
    date holds its year and month, as the support check reads it)."""
    return sorted(units(answer) - with_parts(set(units(question) | units(cited))))


def _cited(answer: Any) -> str:
    """Every passage the answer cites, as the model and the quote saw it (markers out, no
    space before punctuation: "March 29 , 2018" in a tokenised corpus reads "March 29, 2018")."""
    return " ".join(without_markers(c.text) for c in answer.citations)


def score(q: QAQuestion, answer: Any, seconds: float) -> dict:
    """One question's record: what was answered and how it measures up."""
    refused = answer.path == "refused" or answer.refused
    cited_text = _cited(answer)
    cited_id = answer.citations[0].doc_name.removesuffix(".md") if answer.citations else None
    figures = [] if refused else unsupported_figures(answer.answer, q.question, cited_text)
    return {
        "id": q.id, "question": q.question, "answerable": q.answerable,
        "answer": answer.answer, "path": answer.path, "reason": answer.reason,
        "refused": refused,
        "contains_gold": bool(q.answers) and not refused and contains_gold(answer.answer,
                                                                           q.answers),
        # token F1 of what the answer gives as its answer: a quote's short lead when it has
        # one (the words before the quote), else the whole text
        "f1": 0.0 if refused else round(token_f1(answer.short_answer or answer.answer,
                                                 q.answers), 4),
        "f1_text": 0.0 if refused else round(token_f1(answer.answer, q.answers), 4),
        "short_answer": answer.short_answer, "short_share": answer.short_share,
        "cites_gold": (cited_id in q.gold) if cited_id and q.gold else None,
        "unsupported_figures": figures,
        "seconds": round(seconds, 3),
        "check_ms": answer.timings_ms.get("check"),
        "lead_ms": answer.timings_ms.get("lead"),
        "model_text": answer.verdict.text if answer.verdict else None,
        "replay": _replay_facts(q, answer),
    }


def _replay_facts(q: QAQuestion, answer: Any) -> dict | None:
    """What the verdict measured, with how the model's own text and the best quote would
    score: enough to decide the path again at other thresholds (`replay`)."""
    v = answer.verdict
    if v is None:
        return None
    quoted = quote(v.best, v.runner_up) if v.best else ""
    cited = (_cited(answer) if answer.path == "generated"
             else "")
    return {"model_refused": v.model_refused, "supported": v.supported, "anchor": v.anchor,
            "best": v.best.score if v.best else None, "on_best": v.anchored_on_best,
            "generated": {"gold": bool(q.answers) and contains_gold(v.text, q.answers),
                          "f1": round(token_f1(v.text, q.answers), 4),
                          "figures": bool(unsupported_figures(v.text, q.question, cited))
                          if cited else False},
            "quote": {"gold": bool(q.answers) and contains_gold(quoted, q.answers),
                      # a quote's F1 is its lead's when it had one (the shown quote led)
                      "f1": round(token_f1(answer.short_answer if answer.path == "quoted"
                                           and answer.short_answer else quoted,
                                           q.answers), 4)}}


def replay(records: Sequence[dict], min_evidence: float, quote_refusals: float) -> list[dict]:
    """The records as they would be at other thresholds: each measured verdict decided again
    by verification.decide, the one rule the pipeline uses."""
    out = []
    for r in records:
        f = r.get("replay")
        if f is None:
            out.append(r)
            continue
        best = Evidence(1, "", f["best"]) if f["best"] is not None else None
        verdict = Verdict("", f["model_refused"], f["supported"], "", f["anchor"], best,
                          f["on_best"])
        path = decide(verdict, min_evidence, quote_refusals)[1]
        shown = f["generated"] if path == "generated" else f["quote"]
        out.append(dict(r, path=path, refused=path == "refused",
                        contains_gold=path != "refused" and shown["gold"],
                        f1=0.0 if path == "refused" else shown["f1"],
                        unsupported_figures=["?"] if path == "generated" and shown.get("figures")
                        else []))
    return out


def tradeoff(records: Sequence[dict],
             min_evidence: Sequence[float] = tuple(x / 100 for x in range(20, 71, 5)),
             quote_refusals: Sequence[float] = (0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 1.0)
             ) -> list[dict]:
    """answered, refused-unanswerable, gold and F1 at each pair of thresholds
    (`answer_min_evidence`, `answer_quote_refusals`)."""
    rows = []
    for q in quote_refusals:
        for t in min_evidence:
            s = summarize(replay(records, t, q))
            rows.append({"min_evidence": t, "quote_refusals": q, **{k: s[k] for k in (
                "answered", "refusal_accuracy", "contains_gold", "f1",
                "unsupported_figure_rate")}})
    return rows


def summarize(records: Sequence[dict]) -> dict:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    answered = [r for r in records if not r["refused"]]
    cites = [r["cites_gold"] for r in answerable if not r["refused"]
             and r["cites_gold"] is not None]
    paths = {p: sum(r["path"] == p for r in records) for p in ("generated", "quoted", "refused")}
    return {
        "questions": len(records), "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "contains_gold": _mean([r["contains_gold"] for r in answerable]),
        "f1": _mean([r["f1"] for r in answerable]),
        "cites_gold": _mean(cites),
        "answered": _mean([not r["refused"] for r in answerable]),
        "refusal_accuracy": _mean([r["refused"] for r in unanswerable]),
        "unsupported_figure_rate": _mean([bool(r["unsupported_figures"]) for r in answered]),
        "paths": paths,
        "check_ms_p50": _median([r["check_ms"] for r in records if r.get("check_ms")]),
        "lead_ms_p50": _median([r["lead_ms"] for r in records if r.get("lead_ms")]),
        "seconds_p50": round(statistics.median(r["seconds"] for r in records), 3)
        if records else None,
    }


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _mean(values: Iterable) -> float | None:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else None


def evaluate_answers(settings: Settings, qa: Path, corpus: Path,
                     build: Callable[[Settings], Any], progress: bool = True,
                     limit: int | None = None,
                     questions: Sequence[QAQuestion] | None = None) -> dict:
    """{"summary": ..., "questions": [per-question records]}. `build` wires services for a
    settings object (services.build_services)."""
    qs = list(questions) if questions is not None else read_questions(qa)
    if limit:
        qs = qs[:limit]
    count = sum(1 for _ in read_jsonl(corpus))
    records = []
    with tempfile.TemporaryDirectory(prefix="appliance-eval-") as tmp:
        model = settings.llm_model_path or str(assemble_generator(settings))  # the user's model
        app = build(dataclasses.replace(settings, data_dir=Path(tmp), database_url="",
                                        llm_model_path=model))
        try:
            report = app.ingest.ingest_files(corpus_files(corpus), count, "eval", progress, None)
            if report.failed:
                print(f"warning: {len(report.failed)} corpus records failed to ingest",
                      file=sys.stderr)
            chat = app.chat
            for q in tqdm(qs, desc="questions", disable=not progress, file=sys.stderr):
                t0 = time.perf_counter()
                answer = chat.ask(q.question)
                records.append(score(q, answer, time.perf_counter() - t0))
        finally:
            app.close()
    return {"summary": summarize(records),
            "settings": {k: getattr(settings, k) for k in (
                "answer_min_evidence", "answer_quote_refusals", "evidence_sentences",
                "copy_answers", "retrieval_k")},
            "tradeoff": tradeoff(records),
            "questions": records}


def format_answer_report(result: dict, per_question: bool = False) -> str:
    lines = []
    if per_question:
        for r in result["questions"]:
            mark = "+" if r["contains_gold"] else ("R" if r["refused"] else "-")
            lines.append(f"{mark} [{r['path']:9}] {r['question'][:60]!r} -> {r['answer'][:80]!r}")
        lines.append("")
    for key, value in result["summary"].items():
        lines.append(f"{key:>24}  {json.dumps(value) if isinstance(value, dict) else value}")
    return "\n".join(lines)
