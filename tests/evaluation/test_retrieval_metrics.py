import pytest

from appliance.evaluation.metrics import mrr_at, ndcg_at, recall_at, summarize


def test_perfect_and_empty_rankings():
    rels = {"a": 1, "b": 1}
    assert ndcg_at(["a", "b", "c"], rels) == pytest.approx(1.0)
    assert ndcg_at(["c", "d"], rels) == 0.0
    assert recall_at(["a", "x"], rels, 10) == 0.5
    assert mrr_at(["x", "b"], rels) == 0.5


def test_summary_matches_hand_computation():
    runs = {"q1": ["d1", "d2"], "q2": ["d9", "d3"]}
    qrels = {"q1": {"d1": 1}, "q2": {"d3": 1}}
    out = summarize(runs, qrels)
    assert out["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert out["recall@10"] == 1.0 and out["queries"] == 2
