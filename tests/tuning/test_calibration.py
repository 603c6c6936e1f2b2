"""Refusal calibration: the flip threshold is exact, the sweep scores every bias from one pass,
the choice respects the refusal-accuracy floor, and the served bias does what was measured."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from appliance.answering.prompts import REFUSAL, REFUSAL_OPENING, STOP, Passage, build_prompt
from appliance.evaluation.calibration import (
    Probe,
    ProbingGenerator,
    at,
    calibrate,
    choose,
    flip_threshold,
    lower_bound,
    sweep,
)


def test_flip_threshold_is_the_refusal_tokens_lead():
    logits = np.array([1.0, 4.0, 2.5, -1.0], np.float32)
    assert flip_threshold(logits, 1) == pytest.approx(1.5)
    assert flip_threshold(logits, 3) == pytest.approx(-5.0)
    biased = logits.copy()
    biased[1] -= 1.5 + 1e-4
    assert int(np.argmax(biased)) != 1


def probe(answerable, threshold, answer="The answer [1].", refs=("the answer",), relevance=0.5):
    return Probe(answerable, refs, threshold, answer, (1,), 4, 0.0, relevance)


def test_a_probe_refuses_below_its_threshold_and_answers_from_it():
    p = probe(True, 0.5)
    assert p.record(0.0).refused and p.record(0.0).answer == ""
    assert not p.record(0.5).refused and p.record(0.5).answer == "The answer [1]."
    assert probe(True, math.inf).record(6.0).refused  # the flow refused without the model


def test_a_probe_whose_answer_is_not_relevant_enough_is_refused():
    p = probe(True, -1.0, relevance=0.3)
    assert not p.refused(0.0) and not p.refused(0.0, 0.3)
    assert p.refused(0.0, 0.35) and p.record(0.0, 0.35).answer == ""
    assert probe(True, -1.0, relevance=None).refused(0.0, 0.0)  # no words: nothing to check


def test_sweep_and_choice_keep_the_refusal_floor():
    probes = ([probe(True, t) for t in (-1.0, 0.3, 1.2, 2.5)]
              + [probe(False, t, refs=()) for t in (-1.5, 0.8, 1.6, 3.0, 4.0)])
    curve = sweep(probes, grid=[-1.0, 0.0, 1.0, 2.0, 3.0], relevance_grid=[None])
    by_bias = {c["bias"]: c for c in curve}
    assert by_bias[0.0]["false_refusal_rate"] == 0.75 and by_bias[0.0]["refusal_accuracy"] == 0.8
    assert by_bias[1.0]["false_refusal_rate"] == 0.5 and by_bias[1.0]["refusal_accuracy"] == 0.6
    # the most answers whose refusal accuracy stays >= 80%: bias 0 here
    assert choose(curve, 0.8)["bias"] == 0.0 and choose(curve, 0.8)["met_floor"]
    assert choose(curve, 0.6)["bias"] == 1.0
    # one unanswerable question is answered at every bias: the most accurate refusals, nearest
    # zero, flagged
    assert choose(curve, 1.0) == {**by_bias[0.0], "met_floor": False}
    assert at(probes, 1.0) == {k: v for k, v in by_bias[1.0].items()
                               if k not in ("bias", "min_relevance", "unanswerable")}


def test_the_answer_check_wins_where_the_first_token_cannot_tell():
    """Answerable and unanswerable questions flip at the same biases, but their answers differ
    in relevance: only the check reaches the floor with answers left."""
    probes = ([probe(True, t, relevance=0.7) for t in (-0.5, 0.5, 1.5)]
              + [probe(False, t, refs=(), relevance=0.2) for t in (-0.5, 0.5, 1.5)])
    curve = sweep(probes, grid=[0.0, 1.0, 2.0], relevance_grid=[None, 0.1, 0.4, 0.8])
    best = choose(curve, 0.8)
    assert (best["bias"], best["min_relevance"]) == (2.0, 0.4)
    assert best["answer_f1"] == 1.0 and best["refusal_accuracy"] == 1.0
    assert choose([c for c in curve if c["min_relevance"] is None], 0.8)["answer_f1"] < 0.5


def test_the_lower_bound_is_wilsons_and_shrinks_with_the_sample():
    assert lower_bound(0.8, 30, 0.0) == 0.8 and lower_bound(0.8, 0, 0.9) == 0.8
    assert lower_bound(0.86, 100, 0.9) == pytest.approx(0.8097, abs=1e-3)
    assert lower_bound(0.85, 100, 0.9) < 0.8 < lower_bound(0.86, 100, 0.9)
    assert lower_bound(0.8, 30, 0.9) < lower_bound(0.8, 300, 0.9) < 0.8
    assert lower_bound(1.0, 10, 0.9) == pytest.approx(1 / (1 + 1.2816 ** 2 / 10), abs=1e-3)


def test_with_a_margin_the_choice_refuses_more_than_the_floor():
    """Ten unanswerable questions refused at 80% exactly (bias 0) is not enough at 90%
    confidence: the choice moves to the bias that refuses all ten, and says so."""
    probes = ([probe(True, t) for t in (-1.0, 0.3, 1.2, 2.5)]
              + [probe(False, t, refs=()) for t in (-1.5, -0.5, 0.8, 1.6, 3.0, 4.0, 4.5, 5.0,
                                                    5.5, 6.5)])
    curve = sweep(probes, grid=[-2.0, -1.0, 0.0, 1.0], relevance_grid=[None])
    assert curve[0]["unanswerable"] == 10
    assert choose(curve, 0.8)["bias"] == 0.0  # 8 of 10: the point estimate meets 80%
    strict = choose(curve, 0.8, 0.9)
    assert strict["bias"] == -2.0 and strict["refusal_accuracy"] == 1.0 and strict["met_floor"]
    cal = calibrate({"retrieval": probes}, settings(confidence=0.9))
    assert cal["confidence"] == 0.9 and cal["unanswerable"] == 10


def test_ties_go_to_no_check_and_the_bias_nearest_zero():
    probes = [probe(True, -3.0), probe(False, 5.0, refs=())]
    best = choose(sweep(probes), 0.8)
    assert best["bias"] == 0.0 and best["min_relevance"] is None


def settings(bias=None, check=None, floor=0.8, confidence=0.0):
    return SimpleNamespace(calibration_min_refusal_accuracy=floor, fixed_refusal_bias=bias,
                           fixed_answer_check=check, calibration_confidence=confidence)


def test_calibrate_prefers_the_retrieval_task_and_fixed_settings_win():
    split = [probe(True, 1.0), probe(False, 9.0, refs=())]
    retrieval = [probe(True, 2.0), probe(False, 9.0, refs=())]
    cal = calibrate({"eval_split": split, "retrieval": retrieval}, settings())
    assert cal["task"] == "retrieval" and cal["chosen"]["refusal_bias"] == 2.0
    assert cal["served"] == cal["chosen"] == {"refusal_bias": 2.0, "min_relevance": None}
    assert [c["bias"] for c in cal["by_bias"]] == sorted(c["bias"] for c in cal["by_bias"])
    assert calibrate({"eval_split": split}, settings())["chosen"]["refusal_bias"] == 1.0
    fixed = calibrate({"eval_split": split}, settings(bias=-0.5, check=0.6))
    assert fixed["chosen"]["refusal_bias"] == 1.0
    assert fixed["served"] == {"refusal_bias": -0.5, "min_relevance": 0.6}
    off = calibrate({"eval_split": split}, settings(check="off"))
    assert off["served"]["min_relevance"] is None
    assert calibrate({}, settings())["task"] is None


QUESTIONS = [  # (question, passages): answerable and not, as the ask flow would show them
    ("How long must a password be?",
     ["(it-security.md, Passwords) Passwords must be at least 14 characters long and are "
      "changed only after a suspected compromise."]),
    ("Who approves a company car?",
     ["(travel.md, Trains) Standard-class rail tickets are booked through the travel desk."]),
    ("When does the cafeteria open on Sundays?",
     ["(facilities.md, Parking) Staff parking permits are renewed every January."]),
]


NEAR = 0.3


@pytest.mark.slow
def test_the_served_bias_does_what_the_probe_measured(model_dir):
    """For each prompt, one probing pass predicts the answer at any bias; the real generator
    at a bias just below the threshold refuses, just above it gives the probed answer. "Just":
    0.3 logits, as llama.cpp's logits move by up to about 0.1 between a prompt evaluated whole
    and one whose prefix came from its cache."""
    from appliance.engines.llm import LlamaGenerator

    gguf = str(next(model_dir.glob("*.gguf")))
    plain = LlamaGenerator(gguf, n_ctx=1024, threads=2)
    probing = ProbingGenerator(plain)
    checked = 0
    for question, texts in QUESTIONS:
        passages = [Passage(t.split(") ")[0][1:], t.split(") ", 1)[1]) for t in texts]
        prompt = build_prompt(question, passages, plain.count_tokens, 1024, 40).text
        forced = "".join(probing.stream(prompt, 40, STOP)).strip()
        t = probing.threshold
        assert math.isfinite(t) and not forced.startswith("I don")
        below = "".join(plain.stream(prompt, 40, STOP, {REFUSAL_OPENING: -(t - NEAR)})).strip()
        above = "".join(plain.stream(prompt, 40, STOP, {REFUSAL_OPENING: -(t + NEAR)})).strip()
        assert below.startswith("I"), (question, t, below)
        assert above == forced, (question, t)
        checked += 1
    assert checked == len(QUESTIONS)
    # a generator built with a bias applies it without being asked per call
    t = probing.threshold
    biased = LlamaGenerator(gguf, n_ctx=1024, threads=2,
                            opening_bias={REFUSAL_OPENING: -(t + NEAR)})
    assert "".join(biased.stream(prompt, 40, STOP)).strip() == forced
    assert REFUSAL.startswith("I")
