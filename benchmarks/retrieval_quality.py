"""Retrieval quality on SciFact through `appliance eval retrieval` (the real CLI, JSON output).

    python benchmarks/retrieval_quality.py [--fusion rrf|dense|keyword ...]

Targets (issue 3): nDCG@10 >= 0.71 and recall@100 >= 0.94.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from _table import ROOT, SCIFACT, report


def run(fusion: str) -> tuple[dict, float]:
    env = dict(os.environ, APPLIANCE_FUSION=fusion)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "appliance", "eval", "retrieval",
                          "--corpus", str(SCIFACT / "corpus.jsonl"),
                          "--queries", str(SCIFACT / "queries.jsonl"),
                          "--qrels", str(SCIFACT / "qrels.tsv"), "--json"],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fusion", nargs="+", default=["rrf"])
    args = parser.parse_args()
    rows = []
    for fusion in args.fusion:
        m, seconds = run(fusion)
        rows.append((fusion, m["ndcg@10"], m["recall@10"], m["recall@100"], m["mrr@10"],
                     m["queries"], round(seconds)))
    report("retrieval_quality", rows, ("fusion", "nDCG@10", "R@10", "R@100", "MRR@10",
                                       "queries", "seconds"),
           {"targets": {"ndcg@10": 0.71, "recall@100": 0.94}})


if __name__ == "__main__":
    main()
