"""Verification: which path an answer takes — the model's words, a quote, or the refusal.

The model's answer is read against the passage it cites (SupportCheck: its figures, dates,
codes and names, and most of its words) and the sentence it rests on is scored against the
question (EvidenceFinder): words a source holds can still answer another question ("what is the
parking fee?" → a sentence about exam fees). The best sentence of all the shown passages is
scored the same way. One threshold, `answer_min_evidence`, decides both whether a supported
answer is about the question and whether the best sentence is good enough to quote; below it
the appliance refuses. A model's refusal is overridden only by a sentence scoring at least
`answer_quote_refusals` (a refusal is the safe side).

Three more rules keep a small model's plausible non-answers off the screen: an answer that says
nothing the question does not ("The CISO can open the conference line.") is not an answer, nor
is one that leaves out the name a question asks for ("Which team audits access?" → "The team
audits access every week."), and
an answer resting on one sentence while another scores at least as well (plus `BETTER_BY`) is
replaced by a quote of that one (the model read the wrong line).

A quote is the best sentence, and the next best with it when that scores within `QUOTE_WITHIN`
of it: a small ranking error then still shows the sentence that answers (on SQuAD dev, the best
sentence holds the answer for 0.50 of questions, the pair for 0.63; on the handbook 0.83 and 0.90).

`Verdict` keeps the measurements and `decide` turns them into a path, so an evaluation can
replay the decision at other thresholds without asking the model again (the trade-off curve in
benchmarks/answers.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .evidence import PSEUDONYM, RESCORE, Evidence, EvidenceFinder
from .prompts import MARKER, REFUSAL, Passage, best_supported, cited_numbers, is_refusal
from .support_check import SupportCheck, content_words, units

# "Which team ...?", "what conference line ...?": the answer is a name ("the Privacy Monitoring
# Team", "the Major Incident Bridge"); "The team audits access weekly" does not give it.
ASKS_NAME = re.compile(r"\b(?:which|what) (?:\w+ )?(team|system|department|committee|tool|portal|"
                       r"service|form|line|bridge|application|app|software|platform|database|"
                       r"register|board|unit|office|organi[sz]ation|company|hospital|ward|"
                       r"building|product|website|country|city|town|network|vpn|desk)\b|"
                       r"\bname of\b", re.I)
# Why an answer made of the sources' words still does not answer (the quality audit reads them)
REPEATS_QUESTION = "the answer only repeats the question"
LEAVES_OUT_NAME = "the answer does not name what the question asks for"
NOT_AN_ANSWER = (REPEATS_QUESTION, LEAVES_OUT_NAME)
BETTER_BY = 0.0  # how much better another sentence must answer the question to be quoted
QUOTE_WITHIN = 0.1  # a runner-up this close to the best sentence is quoted with it


@dataclass(frozen=True)
class Verdict:
    """What was measured of one answer."""

    text: str                   # the model's answer (redacted; its marker corrected when it
                                # cited the wrong passage of those that hold its words)
    model_refused: bool
    supported: bool             # its cited passage holds its figures, names and words
    reason: str                 # why it is not supported ("" when it is)
    anchor: float | None        # how well the sentence it rests on answers the question
    best: Evidence | None       # the best sentence of the shown passages
    anchored_on_best: bool = False  # the answer rests on that best sentence
    runner_up: Evidence | None = None  # the next best, when it is nearly as good (QUOTE_WITHIN)


def names_what_is_asked(answer: str, question: str) -> bool:
    """A question asking for a named thing ("which team?") is answered only by an answer
    holding a name, a pseudonym or a code the question does not."""
    return not asks_for_name(question) or holds_a_name(answer, question)


def asks_for_name(question: str) -> bool:
    return bool(ASKS_NAME.search(question))


def holds_a_name(text: str, question: str) -> bool:
    """Does the text hold a name, a pseudonym or a code the question does not?"""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    return bool(PSEUDONYM.search(text)
                or {u for u in units(text) - units(question) if u.startswith("code:")}
                or {w for w in _capitalised(text) if w.lower() not in asked})


def _capitalised(text: str) -> list[str]:
    """Words holding a capital ("Privacy Monitoring Team", "VPN"); a sentence's first word
    only when a capital inside it shows it is a name ("RosterPoint"), not the sentence's
    opening ("Use the VPN"), or when it is the whole answer ("Midna")."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", MARKER.sub("", text).strip()):
        words = re.findall(r"\w+", sentence)
        out += [w for k, w in enumerate(words)
                if any(c.isupper() for c in (w[1:] if k == 0 and len(words) > 1 else w))]
    return out


def says_something(answer: str, question: str) -> bool:
    """Does the answer hold a figure or a content word the question does not?"""
    return bool(units(answer) - units(question)
                or content_words(answer) - content_words(question))


def quoted(evidence: Evidence, runner_up: Evidence | None = None) -> list[Evidence]:
    """The sentences a quote shows, in the order it shows them: the best, and the runner-up
    after it when there is one (in the passage's own order when both come from the same
    passage)."""
    parts = [evidence] + ([runner_up] if runner_up else [])
    if runner_up and runner_up.passage == evidence.passage and runner_up.order < evidence.order:
        parts.reverse()
    return parts


def quote(evidence: Evidence, runner_up: Evidence | None = None) -> str:
    """The quoted sentences verbatim, in quotation marks, each with its citation."""
    return " ".join(f"\u201c{e.sentence}\u201d [{e.passage}]"
                    for e in quoted(evidence, runner_up))


def measure(question: str, text: str, passages: Sequence[Passage], support: SupportCheck,
            evidence: EvidenceFinder, focus: str = "") -> Verdict:
    """`focus`: a follow-up's own words, when `question` is its rewritten form."""
    texts = [p.text for p in passages]
    ranked = evidence.ranked(question, texts, rescore_only=False, focus=focus)
    best = ranked[0] if ranked else None
    # the runner-up: another sentence (overlapping chunks repeat one), nearly as good
    runner_up = next((e for e in ranked[1:RESCORE] if e.sentence not in best.sentence
                      and best.sentence not in e.sentence), None) if best else None
    if runner_up is not None and runner_up.score < best.score - QUOTE_WITHIN:
        runner_up = None
    if not text or is_refusal(text):
        return Verdict(text, True, False, "the model found no answer in the sources", None, best,
                       False, runner_up)
    cited = cited_numbers(text, len(passages)) or [best_supported(text, passages)]
    source = texts[cited[0] - 1] if cited[0] else ""
    check = support.check(text, source, question)
    if not check.supported:  # the right words, the wrong marker? Cite the passage that holds them
        for number, other in enumerate(texts, start=1):
            if number != cited[0]:
                elsewhere = support.check(text, other, question)  # markers do not count
                if elsewhere.supported:
                    text, source, check = _recite(text, number), other, elsewhere
                    break
    supported, reason = check.supported, check.reason
    if supported and not says_something(text, question):
        supported, reason = False, REPEATS_QUESTION
    elif supported and not names_what_is_asked(text, question):
        supported, reason = False, LEAVES_OUT_NAME
    sentence = evidence.anchor(text, source) if source else ""
    anchor = evidence.score(question, sentence, ranked) if source else None
    on_best = best is not None and best.sentence == sentence
    return Verdict(text, False, supported, reason, anchor, best, on_best, runner_up)


def _recite(text: str, number: int) -> str:
    """The answer with its citation markers pointing at passage `number` (one added at the end
    when it had none)."""
    if MARKER.search(text):
        return MARKER.sub(f"[{number}]", text)
    return f"{text.rstrip()} [{number}]"


def decide(v: Verdict, min_evidence: float, quote_refusals: float) -> tuple[str, str, str]:
    """(text, path, reason) for a verdict at these thresholds."""
    score = v.best.score if v.best else 0.0
    if v.model_refused:
        if v.best is not None and score >= quote_refusals:
            return (quote(v.best, v.runner_up), "quoted",
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
        return quote(v.best, v.runner_up), "quoted", why
    return REFUSAL, "refused", f"{why}; no source sentence answers the question"
