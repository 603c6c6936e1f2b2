"""Answer questions through the real ask flow and score them: the four-way comparison of
base model, RAG, LoRA and RAG + LoRA on the same questions."""
from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from tqdm import tqdm

from ..answering import REFUSAL_OPENING, AnswerCheck, ChatService, cited_numbers
from ..settings import Settings
from .answers import AnswerRecord, figures_unsupported, summarize
from .calibration import shown_text
from .grounded_data import QAItem, load_clapnq
from .retrieval_eval import corpus_files, read_jsonl

# (name, retrieval, adapter); adapter conditions answer with the adapter's calibration
# (refusal bias, least answer relevance), or with the one a fourth element fixes.
CONDITIONS = (("base", False, False), ("RAG", True, False), ("LoRA", False, True),
              ("RAG + LoRA", True, True))
UNCALIBRATED = ("RAG + LoRA uncalibrated", True, True, (0.0, None))


@contextmanager
def corpus_app(settings: Settings, build: Callable[[Settings], Any], corpus: Path,
               progress: bool = False) -> Iterator[Any]:
    """Services over a throwaway data dir holding `corpus` (BEIR layout) ingested."""
    count = sum(1 for _ in read_jsonl(corpus))
    with tempfile.TemporaryDirectory(prefix="appliance-answers-") as tmp:
        app = build(dataclasses.replace(settings, data_dir=Path(tmp), database_url="",
                                        lora_adapter_path=""))
        try:
            report = app.ingest.ingest_files(corpus_files(corpus), count, "eval", progress, None)
            if report.failed:
                print(f"warning: {len(report.failed)} corpus records failed to ingest",
                      file=sys.stderr)
            yield app
        finally:
            app.close()


def make_generator(settings: Settings, model_path: str, lora_path: str = "",
                   refusal_bias: float = 0.0):
    from ..engines import LlamaGenerator

    return LlamaGenerator(model_path, settings.context_size, settings.threads, lora_path,
                          settings.temperature, opening_bias={REFUSAL_OPENING: -refusal_bias})


def answer_all(chat: ChatService, items: Sequence[QAItem], retrieval: bool,
               progress: bool = False, desc: str = "questions") -> list[AnswerRecord]:
    records = []
    for q in tqdm(items, desc=desc, disable=not progress, file=sys.stderr):
        started = time.perf_counter()
        answer = chat.ask(q.question, retrieval=retrieval)
        records.append(AnswerRecord(q.answerable, q.answers, answer.answer, answer.refused,
                                    tuple(cited_numbers(answer.answer, len(answer.hits))),
                                    len(answer.hits), time.perf_counter() - started,
                                    figures_unsupported(answer.answer, q.question,
                                                        shown_text(answer))))
    return records


def balanced(items: Sequence[QAItem], limit: int) -> list[QAItem]:
    """Up to limit/2 answerable and limit/2 unanswerable questions, in file order."""
    half = max(1, limit // 2)
    return ([q for q in items if q.answerable][:half]
            + [q for q in items if not q.answerable][:half])


def run_conditions(app: Any, model_path: str, adapter_path: str, items: Sequence[QAItem],
                   conditions=CONDITIONS, progress: bool = False,
                   calibration: tuple[float, float | None] = (0.0, None)) -> dict[str, dict]:
    """{condition: summary}; each condition answers every item through ChatService.ask."""
    out: dict[str, dict] = {}
    generators: dict[tuple, Any] = {}
    for name, retrieval, lora, *fixed in conditions:
        bias, relevance = (fixed[0] if fixed else calibration) if lora else (0.0, None)
        key = (lora, bias)
        if key not in generators:
            generators[key] = make_generator(app.settings, model_path,
                                             adapter_path if lora else "", bias)
        check = AnswerCheck(app.embedder.embed_query, lambda r=relevance: r)
        chat = ChatService(app.settings, app.retriever, generators[key],
                           redactor=app.redactor, audit=None, check=check)
        records = answer_all(chat, items, retrieval, progress, desc=name)
        out[name] = summarize(records)
        out[name]["answers"] = [r.answer for r in records]
    return out


def compare_four_ways(settings: Settings, build: Callable[[Settings], Any], clapnq_dir: Path,
                      question_ids: Sequence[str], model_path: str, adapter_path: str,
                      progress: bool = False, only: Sequence[str] = (),
                      calibration: tuple[float, float | None] = (0.0, None)) -> dict:
    """The product comparison on the chosen CLAPnq questions (e.g. the held-out part), the
    adapter answering with its `calibration`; a calibrated adapter's RAG + LoRA also runs
    uncalibrated. `only` names a subset of the conditions to run."""
    qa, _ = load_clapnq(clapnq_dir)
    by_id = {q.id: q for q in qa}
    items = [by_id[i] for i in question_ids if i in by_id]
    every = CONDITIONS + ((UNCALIBRATED,) if tuple(calibration) != (0.0, None) else ())
    chosen = [c for c in every if not only or c[0] in only]
    with corpus_app(settings, build, Path(clapnq_dir) / "corpus.jsonl", progress) as app:
        conditions = run_conditions(app, model_path, adapter_path, items, chosen, progress,
                                    calibration)
    return {"questions": len(items), "answerable": sum(q.answerable for q in items),
            "conditions": conditions}
