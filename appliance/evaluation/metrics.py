"""Retrieval metrics over ranked document ids and graded relevance judgements."""
from __future__ import annotations

import math
from typing import Mapping, Sequence


def ndcg_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def summarize(runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]) -> dict:
    """Mean nDCG@10, recall@10, recall@100 and MRR@10 over the judged queries."""
    judged = [q for q in runs if q in qrels]
    if not judged:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0, "queries": 0}
    n = len(judged)
    return {
        "ndcg@10": round(sum(ndcg_at(runs[q], qrels[q]) for q in judged) / n, 4),
        "recall@10": round(sum(recall_at(runs[q], qrels[q], 10) for q in judged) / n, 4),
        "recall@100": round(sum(recall_at(runs[q], qrels[q], 100) for q in judged) / n, 4),
        "mrr@10": round(sum(mrr_at(runs[q], qrels[q]) for q in judged) / n, 4),
        "queries": n,
    }
