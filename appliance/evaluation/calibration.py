"""Answer calibration: when a grounded-answers adapter should answer and when it should say it
does not know, chosen on questions it never saw.

Two knobs decide. The refusal bias: the adapter chooses at its first answer token between the
refusal's "I" and the answer's "According"; subtracting a bias b from the refusal token's logit
there moves that choice. The answer check (appliance/answering/answer_check.py): an answer whose cited
source's relevance to the question is below a threshold s is replaced by the refusal.

For each calibration question one forced answer is generated (the refusal token barred at the
first position) while that position's logits are recorded: they give the exact bias at which
the question flips from refusal to answer (exact up to llama.cpp's own numerics: a prompt
evaluated whole and one whose prefix came from the cache differ by up to about 0.1 logit).
The forced answer's relevance is measured too. Every (b, s) pair is then scored without
generating again: the question is refused when b is below its flip threshold or its relevance
is below s, else answered with the forced answer. The pair chosen has the best answer F1 among
those that keep refusal accuracy on unanswerable questions at or above a floor, with a margin
for the sample: the lower confidence bound (Wilson score) of the refusal accuracy measured on
n calibration questions must reach the floor, so that new questions keep it too. (Run D chose
on the point estimate over 30 questions: exactly 80% there, 72% on held-out questions.)
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from ..answering import REFUSAL_OPENING as OPENING
from ..answering import cited_numbers, is_refusal
from .answers import AnswerRecord, figures_unsupported, summarize


def shown_text(answer: Any) -> str:
    """The text of the passages an answer was given."""
    return " ".join(getattr(h, "text", "") for h in answer.hits)

GRID = tuple(x / 4 for x in range(-24, 25))  # candidate biases, -6 .. +6 logits
# candidate least relevances; None: no answer check
RELEVANCE_GRID = (None,) + tuple(x / 40 for x in range(0, 37))  # 0 .. 0.9


def flip_threshold(logits: np.ndarray, token: int) -> float:
    """The smallest bias at which greedy decoding stops picking `token` first: its lead over
    the best other token. (llama.cpp's repeat penalty sees only generated tokens, so none
    applies at the first position.)"""
    others = np.asarray(logits, np.float64).copy()
    own = float(others[token])
    others[token] = -np.inf
    return own - float(np.max(others))


@dataclass(frozen=True)
class Probe:
    """One calibration question: from which bias it is answered, that answer, its relevance."""

    answerable: bool
    references: tuple[str, ...]
    threshold: float  # refuses while bias < threshold; inf: always refuses
    answer: str
    cited: tuple[int, ...]
    sources: int
    seconds: float = 0.0
    relevance: float | None = None  # of the forced answer's cited source to the question
    unsupported: bool = False  # the forced answer holds a figure the sources do not

    def refused(self, bias: float, min_relevance: float | None = None) -> bool:
        if bias < self.threshold:
            return True
        return min_relevance is not None and (self.relevance is None
                                              or self.relevance < min_relevance)

    def record(self, bias: float, min_relevance: float | None = None) -> AnswerRecord:
        refused = self.refused(bias, min_relevance)
        return AnswerRecord(self.answerable, self.references,
                            "" if refused else self.answer, refused,
                            () if refused else self.cited, self.sources, self.seconds,
                            not refused and self.unsupported)


class ProbingGenerator:
    """Wraps a LlamaGenerator for ChatService: each answer is the forced one, and the flip
    threshold of the last call is kept in `.threshold`."""

    def __init__(self, generator: Any):
        self.gen = generator
        self.n_ctx = generator.n_ctx
        self.token = generator.first_token(OPENING)
        self.threshold = math.inf

    def count_tokens(self, text: str) -> int:
        return self.gen.count_tokens(text)

    def tokenize(self, text: str) -> list[int]:
        return self.gen.tokenize(text)

    def stream(self, prompt: str, max_tokens: int, stop: Sequence[str], **kw: Any):
        def observe(logits):
            self.threshold = flip_threshold(logits, self.token)

        self.threshold = math.inf
        yield from self.gen.stream(prompt, max_tokens, stop, opening_bias={OPENING: -math.inf},
                                   on_opening=observe, **kw)


def probe_chat(chat: Any, probing: ProbingGenerator, items: Sequence[Any],
               progress: bool = False) -> list[Probe]:
    """Ask each item through `chat` (a ChatService over `probing`, with an AnswerCheck that
    measures relevance and holds nothing back)."""
    out = []
    for q in tqdm(items, desc="calibration", disable=not progress, file=sys.stderr):
        started = time.perf_counter()
        probing.threshold = math.inf  # stays inf when the flow refused without the model
        answer = chat.ask(q.question)
        text = answer.answer
        threshold = math.inf if is_refusal(text) or not text else probing.threshold
        out.append(Probe(q.answerable, tuple(q.answers), threshold, text,
                         tuple(cited_numbers(text, len(answer.hits))), len(answer.hits),
                         time.perf_counter() - started, answer.relevance,
                         figures_unsupported(text, q.question, shown_text(answer))))
    return out


def lower_bound(share: float, n: int, confidence: float) -> float:
    """One-sided Wilson score lower bound of a share measured on n trials; the share itself
    when confidence is 0.5 or less (or n is 0)."""
    if n <= 0 or confidence <= 0.5:
        return share
    z = NormalDist().inv_cdf(confidence)
    centre = share + z * z / (2 * n)
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def sweep(probes: Sequence[Probe], grid: Sequence[float] = GRID,
          relevance_grid: Sequence[float | None] = RELEVANCE_GRID) -> list[dict]:
    """The metrics at each candidate (bias, least relevance)."""
    unanswerable = sum(1 for p in probes if not p.answerable)
    return [{"bias": b, "min_relevance": r, "unanswerable": unanswerable,
             **summarize([p.record(b, r) for p in probes])}
            for r in relevance_grid for b in grid]


def choose(curve: Sequence[dict], min_refusal_accuracy: float, confidence: float = 0.0) -> dict:
    """The best answer F1 whose refusal accuracy meets the floor (its lower bound at
    `confidence`, see lower_bound); ties go to no answer check (then the lowest threshold),
    then to the bias nearest zero. When nothing meets the floor, the most accurate refusals,
    with the same ties."""
    def lenient(c: dict) -> tuple:
        relevance = c.get("min_relevance")
        return (-(relevance if relevance is not None else -2.0), -abs(c["bias"]))

    ok = [c for c in curve if lower_bound(c["refusal_accuracy"], c.get("unanswerable", 0),
                                          confidence) >= min_refusal_accuracy]
    if ok:
        best = max(ok, key=lambda c: (c["answer_f1"], *lenient(c)))
    else:
        best = max(curve, key=lambda c: (c["refusal_accuracy"], *lenient(c)))
    return {**best, "met_floor": bool(ok)}


def at(probes: Sequence[Probe], bias: float, min_relevance: float | None = None) -> dict:
    """The metrics the adapter scores when it answers with this calibration."""
    return summarize([p.record(bias, min_relevance) for p in probes])


def calibrate(probes: dict[str, list[Probe]], settings: Any) -> dict:
    """The (refusal bias, least relevance) to serve: chosen on the retrieval task when measured
    (it is what users ask through), else on the eval split. `refusal_bias` and `answer_check`
    settings, when fixed, override the served values (not the choice)."""
    task = "retrieval" if "retrieval" in probes else next(iter(probes), None)
    floor = settings.calibration_min_refusal_accuracy
    confidence = settings.calibration_confidence
    curve = sweep(probes[task]) if task else []
    chosen = choose(curve, floor, confidence) if curve else {
        "bias": 0.0, "min_relevance": None, "met_floor": False}
    bias, relevance = chosen["bias"], chosen["min_relevance"]
    keys = ("answer_f1", "refusal_accuracy", "false_refusal_rate")
    return {"task": task, "min_refusal_accuracy": floor, "confidence": confidence,
            "unanswerable": curve[0]["unanswerable"] if curve else 0,
            "met_floor": chosen["met_floor"],
            "chosen": {"refusal_bias": bias, "min_relevance": relevance},
            "served": served_calibration(settings, bias, relevance),
            # two slices through the choice: the bias alone, the threshold alone
            "by_bias": [{"bias": c["bias"], **{k: c[k] for k in keys}} for c in curve
                        if c["min_relevance"] == relevance],
            "by_relevance": [{"min_relevance": c["min_relevance"], **{k: c[k] for k in keys}}
                             for c in curve if c["bias"] == bias]}


def served_calibration(settings: Any, bias: float, relevance: float | None) -> dict:
    """What serving will apply, given the settings' fixed values (if any)."""
    fixed_bias, fixed_check = settings.fixed_refusal_bias, settings.fixed_answer_check
    if fixed_bias is not None:
        bias = fixed_bias
    if fixed_check is not None:
        relevance = None if fixed_check == "off" else fixed_check
    return {"refusal_bias": bias, "min_relevance": relevance}
