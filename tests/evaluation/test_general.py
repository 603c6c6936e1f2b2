"""The general-capability harness: log-likelihoods checked against an independent sum over
the real model's logits, acc against acc_norm, intervals, the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from appliance.cli import main
from appliance.evaluation import general as g

DATA = Path(__file__).resolve().parent.parent / "data" / "general"


@pytest.fixture(scope="module")
def gguf(model_dir) -> str:
    return str(next(model_dir.glob("*.gguf")))


@pytest.fixture(scope="module")
def scorer(gguf):
    from appliance.engines.loglik import LoglikScorer

    s = LoglikScorer(gguf, n_ctx=2048)
    yield s
    s.close()


def independent_loglik(llm, context: list[int], continuation: list[int]) -> float:
    """Sum of log-softmax over a plain Llama(logits_all=True) pass of the whole sequence."""
    llm.reset()
    llm.eval(context + continuation)
    scores = np.asarray(llm.scores[:len(context) + len(continuation)], dtype=np.float64)
    total = 0.0
    for i, token in enumerate(continuation):
        row = scores[len(context) - 1 + i]
        top = row.max()
        total += row[token] - (np.log(np.exp(row - top).sum()) + top)
    return total


@pytest.mark.slow
def test_log_likelihoods_equal_an_independent_sum_of_token_log_probs(gguf, scorer):
    from llama_cpp import Llama

    llm = Llama(gguf, n_ctx=1024, logits_all=True, n_threads=2, verbose=False)
    items = g.load_task(DATA, "hellaswag")[:2]
    scorer.keep([scorer.bos()])
    for item in items:
        ours = g._score_choices(scorer, [scorer.bos()], item["query"],
                                [" " + e for e in item["endings"]])
        theirs = []
        for ending in item["endings"]:
            context, cont = scorer.split(item["query"], " " + ending)
            theirs.append(independent_loglik(llm, context, cont))
            # per token, llama.cpp's batch split moves a log-prob by a few hundredths at most
            assert abs(ours[len(theirs) - 1] - theirs[-1]) <= 0.05 * len(cont) + 0.2
        assert all(v < 0 for v in ours)
        # the same choice wins whenever the independent sum has a clear winner
        ranked = sorted(theirs, reverse=True)
        if ranked[0] - ranked[1] > 1.0:
            assert int(np.argmax(ours)) == int(np.argmax(theirs))
    llm.close()


@pytest.mark.slow
def test_a_kept_prefix_gives_the_same_scores_as_decoding_it_with_the_item(scorer):
    prefix = [scorer.bos()] + scorer.tokenize("A man is sitting on a roof. he starts "
                                              "pulling up roofing.\n\n")
    query = scorer.tokenize("A woman walks into the kitchen. she")
    choices = [scorer.tokenize(" opens the fridge."), scorer.tokenize(" flies to the moon.")]
    scorer.keep(prefix)
    kept = scorer.score(prefix + query, choices)
    scorer.keep([scorer.bos()])
    whole = scorer.score(prefix + query, choices)
    for (a, _), (b, _) in zip(kept, whole):
        assert a == pytest.approx(b, abs=0.05 * 5 + 0.2)
    reordered = scorer.score(prefix + query, choices[::-1])[::-1]  # order-free
    assert [v for v, _ in reordered] == pytest.approx([v for v, _ in whole], abs=0.1)
    with pytest.raises(Exception, match="kept prefix"):
        scorer.keep(prefix)
        scorer.score([scorer.bos()] + query, choices)


class FakeScorer:
    """Words as tokens; each ending's score is set by the test."""

    def __init__(self, scores: dict[str, float]):
        self.scores = scores

    def bos(self):
        return 0

    def tokenize(self, text, bos=False):
        return [hash(w) % 1000 + 1 for w in text.split()]

    def split(self, context, continuation, bos=True):
        return [0] + self.tokenize(context), [continuation]  # the text stands for its tokens

    def keep(self, tokens):
        self.kept = tokens

    decoded = 0

    def score(self, context, continuations):
        return [(self.scores[c[0].strip()], False) for c in continuations]


def test_acc_takes_the_sum_and_acc_norm_divides_by_the_ending_length():
    short, long = "no", "he carefully climbs down the ladder and goes inside."
    item = {"query": "A man is on a roof.", "endings": [short, long, "x y", "z w"], "label": 1}
    # the long ending has the larger total log-probability per character, the short one the
    # larger sum: acc picks the short (wrong) ending, acc_norm the long (right) one
    scorer = FakeScorer({short: -3.0, long: -20.0, "x y": -30.0, "z w": -31.0})
    result = g.run_hellaswag(scorer, [item, dict(item)], shots=0, limit=None)
    assert result.correct == [0, 0] and result.correct_norm == [1, 1]
    s = result.summary()
    assert (s["acc"], s["acc_norm"], s["n"]) == (0.0, 1.0, 2)
    assert s["acc_interval"][0] == 0.0 and s["acc_norm_interval"][1] == 1.0


def test_hellaswag_exemplars_are_shared_seeded_and_never_scored():
    items = g.load_task(DATA, "hellaswag")
    prefix, scored = g.hellaswag_prompts(items, 10, None)
    again, _ = g.hellaswag_prompts(items, 10, None)
    assert prefix == again and prefix.count("\n\n") == 10
    assert len(scored) == len(items) - 10
    assert not any(item["query"] in prefix for item in scored)
    _, limited = g.hellaswag_prompts(items, 10, 5)
    assert limited == scored[:5]


def test_mmlu_prompt_follows_the_harness_and_a_limit_covers_every_subject():
    items = g.load_task(DATA, "mmlu")
    dev = g._read_jsonl(DATA / "mmlu_dev.jsonl")
    groups = g.mmlu_prompts(items, dev, 5, 4)
    assert len(groups) == 2 and all(len(members) == 2 for _, members in groups)
    prefix, members = groups[0]
    subject = members[0]["subject"].replace("_", " ")
    assert prefix.startswith(f"The following are multiple choice questions (with answers) "
                             f"about {subject}.\n\n")
    assert prefix.count("\nAnswer: ") == 5 and prefix.endswith("\n\n")
    block = g.mmlu_block(members[0], False)
    assert block.splitlines()[1].startswith("A. ") and block.endswith("\nD. "
                                                                      + members[0]["choices"][3]
                                                                      + "\nAnswer:")


def test_wilson_and_the_paired_interval():
    assert g.wilson(0, 0) is None
    lo, hi = g.wilson(41, 100)
    assert lo < 0.41 < hi and hi - lo == pytest.approx(0.19, abs=0.01)
    same = g.paired_difference([1, 0, 1, 1] * 25, [1, 0, 1, 1] * 25)
    assert same["diff"] == 0 and same["interval"] == [0.0, 0.0]
    worse = g.paired_difference([1] * 60 + [0] * 40, [1] * 30 + [0] * 70)
    assert worse["diff"] == -0.3 and worse["interval"][1] < 0
    noisy = g.paired_difference([1, 0] * 10, [0, 1] * 10)
    assert noisy["diff"] == 0 and noisy["interval"][0] < 0 < noisy["interval"][1]


def test_bad_benchmark_data_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="neither"):
        g.tasks_in(tmp_path, None)
    with pytest.raises(Exception, match="unknown task"):
        g.tasks_in(DATA, ["arc"])
    (tmp_path / "hellaswag_val.jsonl").write_text('{"query": "q", "endings": ["a"], '
                                                  '"label": 0}\n')
    with pytest.raises(Exception, match="item 1: expected"):
        g.load_task(tmp_path, "hellaswag")
    (tmp_path / "hellaswag_val.jsonl").write_text("not json\n")
    with pytest.raises(Exception, match="line 1 is not JSON"):
        g.load_task(tmp_path, "hellaswag")


@pytest.mark.slow
def test_eval_general_cli_prints_accuracy_with_intervals(tmp_path, gguf, capsys):
    (tmp_path / "appliance.toml").write_text(f'llm_model_path = "{gguf}"\n')
    base = ["--data-dir", str(tmp_path)]
    assert main(base + ["eval", "general", "--data", str(DATA), "--limit", "6", "--shots", "2",
                        "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    hs, mmlu = out["tasks"]["hellaswag"], out["tasks"]["mmlu"]
    assert (hs["n"], hs["shots"], mmlu["n"], mmlu["subjects"]) == (6, 2, 6, 2)
    for s in (hs, mmlu):
        assert 0 <= s["acc"] <= 1 and s["acc_interval"][0] <= s["acc"] <= s["acc_interval"][1]
        assert s["items_per_s"] > 0 and s["tokens_decoded"] > 0
    assert hs["acc_norm"] is not None and mmlu["acc_norm"] is None
    assert main(base + ["eval", "general", "--data", str(DATA), "--tasks", "mmlu",
                        "--limit", "2"]) == 0
    text = capsys.readouterr().out
    assert "mmlu" in text and "hellaswag" not in text and "random choice scores 25.0" in text
    assert main(base + ["eval", "general", "--data", str(tmp_path / "none")]) != 0
    assert "no such folder" in capsys.readouterr().err
    assert main(base + ["eval", "general", "--data", str(DATA), "--tasks", "arc"]) != 0
    assert "unknown task" in capsys.readouterr().err
