"""Answer metrics: token F1 against reference answers, citation rate, refusal accuracy,
unsupported figures."""
from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

MARKER = re.compile(r"\[\d{1,2}\]")
ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(text: str) -> list[str]:
    """SQuAD-style: lower case, no citation markers, punctuation or articles."""
    text = MARKER.sub(" ", text.lower())
    text = "".join(" " if ch in string.punctuation else ch for ch in text)
    return ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """The best token F1 of the prediction against any reference (0 without references)."""
    pred = normalize(prediction)
    best = 0.0
    for ref in references:
        gold = normalize(ref)
        common = sum((Counter(pred) & Counter(gold)).values())
        if not pred or not gold or not common:
            continue
        p, r = common / len(pred), common / len(gold)
        best = max(best, 2 * p * r / (p + r))
    return best


@dataclass(frozen=True)
class AnswerRecord:
    """One answered question: what the model said and what it should have done."""

    answerable: bool
    references: tuple[str, ...]
    answer: str
    refused: bool
    cited: tuple[int, ...]  # valid [n] markers in the answer
    sources: int  # passages the prompt showed
    seconds: float = 0.0
    unsupported: bool = False  # holds a figure neither the question nor the sources hold


def figures_unsupported(answer: str, question: str, sources: str) -> bool:
    """Whether the answer holds a figure (number, amount, date, code) that neither the question
    nor the sources shown hold: the invented figure the support check exists to stop."""
    from ..answering import units

    return bool(units(answer) - units(question) - units(sources))


def summarize(records: Sequence[AnswerRecord]) -> dict:
    """answer_f1: mean token F1 over answerable questions (a refusal scores 0);
    citation_rate: share of non-refusal answers, given sources, that cite one (None when no
    prompt had sources); refusal_accuracy: share of unanswerable questions refused;
    false_refusal_rate: share of answerable questions refused;
    unsupported_figure_rate: share of non-refusal answers holding a figure that neither the
    question nor the sources shown hold."""
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    answered = [r for r in records if not r.refused and r.sources]
    shown = [r for r in records if not r.refused]
    f1 = [0.0 if r.refused else token_f1(r.answer, r.references) for r in answerable]
    return {
        "questions": len(records),
        "answer_f1": _mean(f1),
        "citation_rate": _mean([1.0 if r.cited else 0.0 for r in answered])
        if answered else None,
        "refusal_accuracy": _mean([1.0 if r.refused else 0.0 for r in unanswerable]),
        "false_refusal_rate": _mean([1.0 if r.refused else 0.0 for r in answerable]),
        "unsupported_figure_rate": _mean([1.0 if r.unsupported else 0.0 for r in shown])
        if shown else None,
        "seconds_per_question": _mean([r.seconds for r in records]),
    }


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
