"""`appliance advise` over a large answer log: the time to the advice.

    python benchmarks/advise.py [--answers 10000]

Seeds a throwaway data dir's answer log with N answers shaped like real ones (four shown
passages, retrieved hits with scores, timings, a fifth of them labelled, a tenth down-voted
through the web chat's feedback), then times `appliance advise --last 0` as a new process
would run it, twice: the first run also stores the automatic pre-labels of every answer, the
second finds them stored. Target (issue "hallucination audit"): ≤ 5 s on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import ROOT, report

LABELS = ("wrong_fact", "retrieval_miss", "wrong_format", "wrong_tone", "wrong_reasoning",
          "correct", "other")
SENTENCE = ("Full-time staff receive {n} days of annual leave each year, in addition to public "
            "holidays, and requests are approved by the line manager.")


def seed(data: Path, n: int) -> None:
    from appliance.services import build_services
    from appliance.settings import load_settings
    from appliance.store import AnswerLogTable

    app = build_services(load_settings({"data_dir": str(data)}, environ={}))
    rng = random.Random(0)
    now = time.time()
    rows = []
    for i in range(n):
        days = rng.randint(10, 40)
        path = rng.choice(("generated", "generated", "quoted", "refused"))
        shown = [{"chunk_id": i * 4 + k, "doc_name": f"handbook/doc-{k}.md",
                  "text": SENTENCE.format(n=days + k)} for k in range(4)]
        label = rng.choice(LABELS) if rng.random() < 0.2 else None
        rows.append(AnswerLogTable(
            created_at=now - (n - i) * 60, channel="web", actor=f"user{i % 50}",
            collections="handbook", question=f"How many days of leave for case {i}?",
            answer=("I don't know: the documents do not say." if path == "refused"
                    else f"Staff get {days} days [1]."), model_answer=f"{days + 1} days [2].",
            path=path, reason="", retrieved=json.dumps([{"chunk_id": i, "score": 0.03}] * 8),
            shown=json.dumps(shown), citations=json.dumps([{"n": 1, "chunk_id": i * 4}]),
            check_result=json.dumps({"model_refused": path == "refused", "supported": True,
                                     "best_score": rng.random()}),
            timings=json.dumps({"retrieve": 15.0, "first_token": 1800.0, "total": 2500.0,
                                "prompt_tokens": 450, "context_share": 0.4}),
            model_sha256="m" * 64, label=label, labelled_by="rita" if label else None,
            review="accepted" if label else "pending"))
    with app.store.session() as s:
        s.add_all(rows)
    app.close()


def timed(data: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data), "advise",
                    "--last", "0", "--json"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="advise-bench-") as tmp:
        data = Path(tmp)
        subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data), "init"],
                       check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        seed(data, args.answers)
        first, second = timed(data), timed(data)
    report("advise", [(args.answers, round(first, 2), round(second, 2), "≤ 5")],
           ("answers", "first run s (stores pre-labels)", "later run s", "target s"))


if __name__ == "__main__":
    main()
