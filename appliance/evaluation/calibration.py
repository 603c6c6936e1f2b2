"""Refusal calibration: how far to lower the refusal's first token so an adapter answers when
it is unsure, chosen on held-out questions.

A grounded-answers adapter decides at its first answer token: the refusal's "I" or the
answer's "According". Greedy decoding takes the larger logit, which is one arbitrary
threshold. Subtracting a bias b from the refusal token's logit at that position moves it.
For each calibration question one forced answer is generated (the refusal token barred) while
the first position's logits are recorded; from them follows the exact bias at which that
question flips from refusal to answer (exact up to llama.cpp's own numerics: a prompt
evaluated whole and one whose prefix came from the cache differ by up to about 0.1 logit).
Every candidate bias is then scored without generating again: below a question's threshold
it refuses, at or above it gives the forced answer.
The chosen bias is the one with the best answer F1 among those that keep refusal accuracy on
unanswerable questions at or above a floor.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from tqdm import tqdm

from ..prompts import REFUSAL_OPENING as OPENING
from ..prompts import cited_numbers, is_refusal
from .answers import AnswerRecord, summarize

GRID = tuple(x / 4 for x in range(-24, 25))  # candidate biases, -6 .. +6 logits


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
    """One calibration question: the bias from which it is answered, and that answer."""

    answerable: bool
    references: tuple[str, ...]
    threshold: float  # refuses while bias < threshold; inf: always refuses
    answer: str
    cited: tuple[int, ...]
    sources: int
    seconds: float = 0.0

    def record(self, bias: float) -> AnswerRecord:
        refused = bias < self.threshold
        return AnswerRecord(self.answerable, self.references,
                            "" if refused else self.answer, refused,
                            () if refused else self.cited, self.sources, self.seconds)


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

    def stream(self, prompt: str, max_tokens: int, stop: Sequence[str]):
        def observe(logits):
            self.threshold = flip_threshold(logits, self.token)

        self.threshold = math.inf
        yield from self.gen.stream(prompt, max_tokens, stop, opening_bias={OPENING: -math.inf},
                                   on_opening=observe)


def probe_chat(chat: Any, probing: ProbingGenerator, items: Sequence[Any],
               progress: bool = False) -> list[Probe]:
    """Ask each item through `chat` (a ChatService over `probing`)."""
    out = []
    for q in tqdm(items, desc="calibration", disable=not progress, file=sys.stderr):
        started = time.perf_counter()
        probing.threshold = math.inf  # stays inf when the flow refused without the model
        answer = chat.ask(q.question)
        text = answer.answer
        threshold = math.inf if is_refusal(text) or not text else probing.threshold
        out.append(Probe(q.answerable, tuple(q.answers), threshold, text,
                         tuple(cited_numbers(text, len(answer.hits))), len(answer.hits),
                         time.perf_counter() - started))
    return out


def sweep(probes: Sequence[Probe], grid: Sequence[float] = GRID) -> list[dict]:
    """The metrics at each candidate bias."""
    return [{"bias": b, **summarize([p.record(b) for p in probes])} for b in grid]


def choose(curve: Sequence[dict], min_refusal_accuracy: float) -> dict:
    """The best answer F1 whose refusal accuracy meets the floor; ties go to the bias nearest
    zero. When no bias meets the floor, the one refusing most accurately (then nearest zero)."""
    ok = [c for c in curve if c["refusal_accuracy"] >= min_refusal_accuracy]
    if ok:
        best = max(ok, key=lambda c: (c["answer_f1"], -abs(c["bias"])))
    else:
        best = max(curve, key=lambda c: (c["refusal_accuracy"], -abs(c["bias"])))
    return {**best, "met_floor": bool(ok)}


def at_bias(probes: Sequence[Probe], bias: float) -> dict:
    """The metrics the adapter scores when it answers with `bias`."""
    return summarize([p.record(bias) for p in probes])


def calibrate(probes: dict[str, list[Probe]], settings: Any) -> dict:
    """The refusal bias to serve: chosen on the retrieval task when measured (it is what users
    ask through), else on the eval split; a `refusal_bias` setting overrides the choice."""
    task = "retrieval" if "retrieval" in probes else next(iter(probes), None)
    floor = settings.calibration_min_refusal_accuracy
    curve = sweep(probes[task]) if task else []
    chosen = choose(curve, floor) if curve else {"bias": 0.0, "met_floor": False}
    fixed = settings.fixed_refusal_bias
    return {"task": task, "min_refusal_accuracy": floor, "chosen": chosen["bias"],
            "met_floor": chosen["met_floor"],
            "refusal_bias": chosen["bias"] if fixed is None else fixed,
            "curve": [{k: c[k] for k in ("bias", "answer_f1", "refusal_accuracy",
                                         "false_refusal_rate")} for c in curve]}
