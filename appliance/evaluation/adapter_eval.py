"""`tune eval`: base against base + adapter on the training set's eval split, optionally on a
retrieval task through the real ask flow, and general-text perplexity; the result is stored
with the adapter and decides whether it may be activated."""
from __future__ import annotations

import json
import math
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from tqdm import tqdm

from ..answering import STOP, AnswerCheck, ChatService, cited_numbers, is_refusal
from ..engines import generator_path
from ..tuning import TuningError, dataset_dir, perplexity_check, regression_reasons
from .answers import MARKER, AnswerRecord, figures_unsupported, summarize
from .calibration import Probe, ProbingGenerator, at, calibrate, probe_chat
from .comparison import balanced, corpus_app, make_generator, run_conditions
from .grounded_data import load_clapnq
from .quality_report import (REPORT_VERSION, format_general_change, format_speed,
                             general_section, speed)

QUESTION = re.compile(r"^Question: (.*)$", re.M)
SOURCE = re.compile(r"^\[\d{1,2}\] \(.*?\) (.*)$", re.M)  # "[n] (label) text"
METRICS = ("answer_f1", "citation_rate", "refusal_accuracy", "false_refusal_rate",
           "unsupported_figure_rate")


def source_texts(prompt: str) -> list[str]:
    """The texts of the question's own numbered sources (not the preamble's), in order."""
    if "Sources:\n" not in prompt:
        return []
    return SOURCE.findall(prompt.rsplit("Sources:\n", 1)[1])


def prompt_sources(prompt: str) -> int:
    """How many numbered sources the question's own Sources block shows."""
    return len(source_texts(prompt))


def _split_example(ex: dict) -> tuple[bool, tuple[str, ...], int]:
    reference = MARKER.sub("", ex["completion"]).strip()
    return not is_refusal(reference), (reference,), prompt_sources(ex["prompt"])


def split_records(generator: Any, examples: Sequence[dict], max_tokens: int,
                  progress: bool = False, desc: str = "eval split") -> list[AnswerRecord]:
    """Answer each eval-split prompt; its completion is the reference (a refusal: unanswerable)."""
    records = []
    for ex in tqdm(examples, desc=desc, disable=not progress, file=sys.stderr):
        started = time.perf_counter()
        text = "".join(generator.stream(ex["prompt"], max_tokens, STOP)).strip()
        answerable, references, sources = _split_example(ex)
        refused = is_refusal(text) or not text
        records.append(AnswerRecord(answerable, references, text, refused,
                                    tuple(cited_numbers(text, sources)), sources,
                                    time.perf_counter() - started,
                                    not refused and _unsupported(text, ex["prompt"])))
    return records


def split_probes(probing: ProbingGenerator, examples: Sequence[dict], max_tokens: int,
                 check: AnswerCheck, progress: bool = False) -> list[Probe]:
    """The eval split through a probing generator: each prompt's flip threshold, answer and
    the relevance of the source it cites to the prompt's question."""
    probes = []
    for ex in tqdm(examples, desc="eval split adapter", disable=not progress, file=sys.stderr):
        started = time.perf_counter()
        text = "".join(probing.stream(ex["prompt"], max_tokens, STOP)).strip()
        answerable, references, sources = _split_example(ex)
        refused = is_refusal(text) or not text
        question = QUESTION.findall(ex["prompt"])
        relevance = None if refused or not question else \
            check.relevance(question[-1], text, source_texts(ex["prompt"]))
        probes.append(Probe(answerable, references, math.inf if refused else probing.threshold,
                            text, tuple(cited_numbers(text, sources)), sources,
                            time.perf_counter() - started, relevance,
                            _unsupported(text, ex["prompt"])))
    return probes


def _unsupported(text: str, prompt: str) -> bool:
    question = QUESTION.findall(prompt)
    return figures_unsupported(text, question[-1] if question else "",
                               " ".join(source_texts(prompt)))


def _read_split(path: Path, limit: int) -> list[dict]:
    if not path.is_file():
        raise TuningError(f"no eval split at {path}")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows[:limit]


def evaluate_adapter(app: Any, build: Callable, version: str, dataset: str | None = None,
                     qa: Path | None = None, corpus: Path | None = None,
                     general_text: Path | None = None, limit: int = 100,
                     progress: bool = False, general_data: Path | None = None,
                     general_limit: int | None = None, measure_speed: bool = True) -> dict:
    """Measure, store the quality report on the registry row, and return it. General
    capability is measured when general_data (or the general_eval_data setting) names a
    folder of benchmark files."""
    info = app.adapters.get(version)
    settings = app.settings
    model = str(generator_path(settings))
    tasks: dict[str, dict] = {}
    probes: dict[str, list[Probe]] = {}
    dataset = dataset or info.training.get("dataset")
    if dataset:
        examples = _read_split(dataset_dir(settings, dataset) / "eval.jsonl", limit)
        if examples:
            base = make_generator(settings, model)
            tasks["eval_split"] = {"base": summarize(split_records(
                base, examples, settings.max_answer_tokens, progress, "eval split base"))}
            probing = ProbingGenerator(make_generator(settings, model, info.path))
            probes["eval_split"] = split_probes(probing, examples, settings.max_answer_tokens,
                                                AnswerCheck(app.embedder.embed_query), progress)
    if qa is not None and corpus is not None:
        items = balanced(_qa_items(qa), limit)
        with corpus_app(settings, build, corpus, progress) as rag_app:
            result = run_conditions(rag_app, model, info.path, items, (("base", True, False),),
                                    progress)
            probing = ProbingGenerator(make_generator(settings, model, info.path))
            chat = ChatService(rag_app.settings, rag_app.retriever, probing,
                               redactor=rag_app.redactor, audit=None,
                               check=AnswerCheck(rag_app.embedder.embed_query,
                                                 measure=True))
            probes["retrieval"] = probe_chat(chat, probing, items, progress)
        tasks["retrieval"] = {"base": {m: v for m, v in result["base"].items()
                                       if m != "answers"}}
    calibration = calibrate(probes, settings)
    served = calibration["served"]
    for task, answered in probes.items():  # the adapter as it will serve, and uncalibrated
        tasks[task]["adapter"] = at(answered, served["refusal_bias"], served["min_relevance"])
        if served != {"refusal_bias": 0.0, "min_relevance": None}:
            tasks[task]["adapter_uncalibrated"] = at(answered, 0.0)
    text = general_text.read_text(encoding="utf-8") if general_text else None
    metrics = {"report_version": REPORT_VERSION, "adapter_sha256": info.sha256,
               "base_sha256": info.base_sha256,
               "perplexity": perplexity_check(model, info.path, text, settings.threads),
               "tasks": tasks, "calibration": calibration,
               "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "limit": limit}
    general_data = general_data or (Path(settings.general_eval_data)
                                    if settings.general_eval_data else None)
    if general_data is not None:
        metrics["general"] = general_section(model, info.path, Path(general_data),
                                             general_limit or settings.general_eval_limit,
                                             settings.threads, progress=progress)
    if measure_speed:
        metrics["speed"] = {"base": speed(settings, model),
                            "adapter": speed(settings, model, info.path)}
    regressions = regression_reasons(metrics, app.adapters.gate)
    metrics["summary"] = _summary(metrics, regressions)
    chosen = calibration["chosen"]
    app.adapters.set_metrics(info.version, metrics,
                             (chosen["refusal_bias"], chosen["min_relevance"])
                             if calibration["task"] else None)
    return {"version": info.version, "name": info.name, **metrics, "regressions": regressions}


def _qa_items(path: Path):
    items, _ = load_clapnq(Path(path).parent) if Path(path).name == "qa.jsonl" and \
        (Path(path).parent / "corpus.jsonl").is_file() else (None, None)
    if items is None:
        raise TuningError(f"{path}: expected a qa.jsonl next to its corpus.jsonl")
    return items


def _summary(metrics: dict, regressions: list[str]) -> str:
    parts = [f"ppl {100 * metrics['perplexity']['rise']:+.1f}%"]
    for task, result in (metrics.get("general") or {}).items():
        change = result["change"]
        parts.append(f"{task} {100 * change['diff']:+.1f} pts")
    for task, sides in metrics["tasks"].items():
        parts.append(f"{task} F1 {sides['base']['answer_f1']:.2f}→"
                     f"{sides['adapter']['answer_f1']:.2f}")
    return ", ".join(parts) + ("; REGRESSES" if regressions else "; ok")


def format_report(report: dict) -> str:
    lines = [f"adapter v{report['version']} {report['name']}"]
    ppl = report["perplexity"]
    lines.append(f"  general-text perplexity  base {ppl['base']:.3f}  adapter "
                 f"{ppl['adapter']:.3f}  ({100 * ppl['rise']:+.2f}%)")
    if report.get("general"):
        lines.append("  general capability (paired on the same items)")
        lines += ["  " + line for line in format_general_change(report["general"])]
    else:
        lines.append("  general capability: not measured (tune eval --general-data DIR)")
    if report.get("speed"):
        lines.append(format_speed(report["speed"]))
    for task, sides in report["tasks"].items():
        lines.append(f"  {task} ({sides['base']['questions']} questions)")
        lines.append("    " + "metric".ljust(20) + "base".rjust(10) + "adapter".rjust(10))
        for m in METRICS:
            b, a = sides["base"].get(m), sides["adapter"].get(m)
            lines.append("    " + m.ljust(20) + _fmt(b).rjust(10) + _fmt(a).rjust(10))
    cal = report.get("calibration") or {}
    if cal.get("task"):
        served, chosen = cal["served"], cal["chosen"]
        lines.append(f"  served with refusal bias {served['refusal_bias']:+g} and answer check "
                     f"{_check(served['min_relevance'])}; calibrated on {cal['task']}: bias "
                     f"{chosen['refusal_bias']:+g}, check {_check(chosen['min_relevance'])}, "
                     f"the best answer F1 keeping refusal accuracy >= "
                     f"{100 * cal['min_refusal_accuracy']:.0f}%"
                     + (f" with {100 * cal['confidence']:.0f}% confidence over "
                        f"{cal.get('unanswerable', 0)} unanswerable questions"
                        if cal.get("confidence", 0) > 0.5 else "")
                     + ("" if cal["met_floor"] else " (which nothing reached)"))
        for task, sides in report["tasks"].items():
            if "adapter_uncalibrated" in sides:
                raw = sides["adapter_uncalibrated"]
                lines.append(f"    {task} uncalibrated (bias 0, no check): F1 "
                             f"{raw['answer_f1']:.3f}, refusal accuracy "
                             f"{raw['refusal_accuracy']:.3f}, false refusals "
                             f"{raw['false_refusal_rate']:.3f}")
    if report["regressions"]:
        lines.append("REGRESSION: " + "; ".join(report["regressions"]))
        lines.append("activation will be refused unless forced")
    else:
        lines.append("no regression: `appliance adapters activate "
                     f"{report['version']}` may serve it")
    return "\n".join(lines)


def _check(relevance) -> str:
    return "off" if relevance is None else f"relevance >= {relevance:g}"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
