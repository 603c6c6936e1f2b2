"""Verification: which path an answer takes — the model's words, a quote, or the refusal.

The model's answer is read against the passage it cites (SupportCheck: its figures, dates,
codes and names, and most of its words) and the sentence it rests on is scored against the
question (EvidenceFinder): words a source holds can still answer another question ("what is the
parking fee?" → a sentence about exam fees). The best sentence of all the shown passages is
scored the same way. One threshold, `answer_min_evidence`, decides both whether a supported
answer is about the question and whether the best sentence is good enough to quote; below it
the appliance refuses. A model's refusal is overridden only by a sentence scoring at least
`answer_quote_refusals` (a refusal is the safe side).

Two more rules keep a small model's plausible non-answers off the screen: an answer that says
nothing the question does not ("The CISO can open the conference line.") is not an answer, and
an answer resting on one sentence while another answers the question clearly better
(`BETTER_BY`) is replaced by a quote of the better one (the model read the wrong line).

`Verdict` keeps the measurements and `decide` turns them into a path, so an evaluation can
replay the decision at other thresholds without asking the model again (the trade-off curve in
benchmarks/answers.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .evidence import Evidence, EvidenceFinder
from .prompts import REFUSAL, Passage, best_supported, cited_numbers, is_refusal
from .support_check import SupportCheck, content_words, units

BETTER_BY = 0.1  # how much better another sentence must answer the question to be quoted


@dataclass(frozen=True)
class Verdict:
    """What was measured of one answer."""

    text: str                   # the model's answer, as generated (and redacted)
    model_refused: bool
    supported: bool             # its cited passage holds its figures, names and words
    reason: str                 # why it is not supported ("" when it is)
    anchor: float | None        # how well the sentence it rests on answers the question
    best: Evidence | None       # the best sentence of the shown passages
    anchored_on_best: bool = False  # the answer rests on that best sentence


def says_something(answer: str, question: str) -> bool:
    """Does the answer hold a figure or a content word the question does not?"""
    return bool(units(answer) - units(question)
                or content_words(answer) - content_words(question))


def quote(evidence: Evidence) -> str:
    """A source sentence shown verbatim, in quotation marks, with its citation."""
    return f"\u201c{evidence.sentence}\u201d [{evidence.passage}]"


def measure(question: str, text: str, passages: Sequence[Passage], support: SupportCheck,
            evidence: EvidenceFinder, best: Evidence | None = None) -> Verdict:
    """`best`: the best sentence, when choosing the evidence already found it."""
    texts = [p.text for p in passages]
    best = best or evidence.best(question, texts, min_score=0.0)
    if not text or is_refusal(text):
        return Verdict(text, True, False, "the model found no answer in the sources", None, best)
    cited = cited_numbers(text, len(passages)) or [best_supported(text, passages)]
    source = texts[cited[0] - 1] if cited[0] else ""
    check = support.check(text, source, question)
    supported, reason = check.supported, check.reason
    if supported and not says_something(text, question):
        supported, reason = False, "the answer only repeats the question"
    sentence = evidence.anchor(text, source) if source else ""
    anchor = evidence.score(question, sentence) if source else None
    on_best = best is not None and best.sentence == sentence
    return Verdict(text, False, supported, reason, anchor, best, on_best)


def decide(v: Verdict, min_evidence: float, quote_refusals: float) -> tuple[str, str, str]:
    """(text, path, reason) for a verdict at these thresholds."""
    score = v.best.score if v.best else 0.0
    if v.model_refused:
        if v.best is not None and score >= quote_refusals:
            return (quote(v.best), "quoted",
                    "the model found no answer, but this source sentence answers it")
        return REFUSAL, "refused", v.reason
    better = (v.best is not None and not v.anchored_on_best and v.anchor is not None
              and score >= v.anchor + BETTER_BY)
    if v.supported and v.anchor is not None and v.anchor >= min_evidence and not better:
        return v.text, "generated", ""
    if not v.supported:
        why = v.reason
    elif better:
        why = "another source sentence answers the question better"
    else:
        why = "the source sentence it rests on is not about the question"
    if v.best is not None and score >= min_evidence:
        return quote(v.best), "quoted", why
    return REFUSAL, "refused", f"{why}; no source sentence answers the question"
