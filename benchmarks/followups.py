"""Follow-up questions: does the query a follow-up gets retrieve the passage it needs?

    python benchmarks/followups.py [--set tests/data/followups.jsonl] [--k 5] [--json]

Each pair in the set is a first question and a follow-up that needs it ("How many days of
annual leave do full-time staff get?" then "And who approves it?"), with the document or
CLAPnq passage id and a short string of the passage the follow-up needs. The handbook pairs
search samples/handbook, the CLAPnq pairs the CLAPnq dev corpus, each ingested into a
throwaway data dir. A pair is a hit when a top-k chunk comes from the gold document and holds
the gold string. Each follow-up is searched (a) as asked and (b) as `rewrite` makes it, given
the first question; pairs marked `new_topic` must come back from `rewrite` unchanged.

Target (issue 19): (b) retrieves the needed passage for >= 0.8 of the follow-ups.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from _table import ROOT, report

CLAPNQ = ROOT.parent / "shared" / "data" / "clapnq" / "corpus.jsonl"
DEFAULT_SET = ROOT / "tests" / "data" / "followups.jsonl"
TARGET = 0.8


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _gold_name(pair: dict) -> str:
    gold = pair["gold_document"]
    return gold if pair["source"] == "handbook" else f"{gold}.md"


def _hit(retriever, query: str, pair: dict, k: int) -> bool:
    name, needle = _gold_name(pair), _norm(pair["gold_contains"])
    return any(h.doc_name == name and needle in _norm(h.text)
               for h in retriever.search(query, k=k).hits)


def _indexed(app, pairs: list[dict]) -> list[str]:
    """Pairs whose gold string no chunk of the gold document holds: a fault of the set."""
    from sqlalchemy import select

    from appliance.store import ChunkTable, DocumentTable

    with app.store.session() as sess:
        rows = sess.execute(select(DocumentTable.name, ChunkTable.text)
                            .join(DocumentTable, DocumentTable.id == ChunkTable.document_id))
        chunks: dict[str, list[str]] = {}
        for name, text in rows:
            chunks.setdefault(name, []).append(_norm(text))
    return [p["followup"] for p in pairs
            if not any(_norm(p["gold_contains"]) in c for c in chunks.get(_gold_name(p), []))]


def _app(data: Path, source: str):
    from appliance.services import build_services
    from appliance.settings import load_settings

    app = build_services(load_settings({"data_dir": str(data)}, environ={}))
    if source == "handbook":
        app.ingest.ingest_paths([ROOT / "samples" / "handbook"], progress=False)
    else:
        from appliance.evaluation.retrieval_eval import corpus_files, read_jsonl

        count = sum(1 for _ in read_jsonl(CLAPNQ))
        app.ingest.ingest_files(corpus_files(CLAPNQ), count, "eval", False, None)
    return app


def score(pairs: list[dict], k: int) -> tuple[list[dict], list[str]]:
    """Each pair with raw_hit, rewritten_hit, query and unchanged; and the set's faults."""
    from appliance.answering import Turn, rewrite

    results, faults = [], []
    for source in ("handbook", "clapnq"):
        mine = [p for p in pairs if p["source"] == source]
        if not mine:
            continue
        with tempfile.TemporaryDirectory(prefix=f"appliance-followups-{source}-") as tmp:
            app = _app(Path(tmp), source)
            try:
                faults += _indexed(app, mine)
                for pair in mine:
                    t0 = time.perf_counter()
                    query = rewrite(pair["followup"], [Turn(pair["first"], "")])
                    micros = (time.perf_counter() - t0) * 1e6
                    raw = _hit(app.retriever, pair["followup"], pair, k)
                    rewritten = raw if query == pair["followup"] else \
                        _hit(app.retriever, query, pair, k)
                    results.append({**pair, "query": query, "raw_hit": raw,
                                    "rewritten_hit": rewritten, "rewrite_us": round(micros, 1),
                                    "unchanged": query == pair["followup"]})
            finally:
                app.close()
    return results, faults


def _rate(rows: list[dict], key: str) -> float | None:
    return round(sum(r[key] for r in rows) / len(rows), 3) if rows else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in args.set.read_text().splitlines() if line.strip()]
    results, faults = score(pairs, args.k)
    follow = [r for r in results if not r["new_topic"]]
    fresh = [r for r in results if r["new_topic"]]
    groups = [(f"follow-ups: {s}", [r for r in follow if r["source"] == s])
              for s in ("handbook", "clapnq")]
    groups += [("follow-ups: all", follow), ("new topic", fresh)]
    rows = [(name, len(rs), _rate(rs, "raw_hit"), _rate(rs, "rewritten_hit"),
             _rate(rs, "unchanged")) for name, rs in groups if rs]
    k = args.k
    figures = {"k": k, "target": TARGET, "rewritten": _rate(follow, "rewritten_hit"),
               "raw": _rate(follow, "raw_hit"), "new_topic_unchanged": _rate(fresh, "unchanged"),
               "followups_rewritten": round(1 - (_rate(follow, "unchanged") or 0.0), 3),
               "rewrite_us_max": max((r["rewrite_us"] for r in results), default=0.0),
               "set_faults": faults}
    report("followups", rows, ("pairs", "n", f"raw hit@{k}", f"rewritten hit@{k}", "unchanged"),
           {"figures": figures, "pairs": results})
    misses = [r for r in results if not r["rewritten_hit"]]
    if misses:
        print(f"\nmissed at {k} after rewrite:")
        for r in misses:
            print(f"  [{r['source']}] {r['query']!r} → {r['gold_document']}")
    if faults:
        print(f"\nset faults (gold string in no chunk of its document): {faults}", file=sys.stderr)
    verdict = "meets" if (figures["rewritten"] or 0.0) >= TARGET else "misses"
    print(f"\nrewritten {figures['rewritten']} vs raw {figures['raw']}: {verdict} the target "
          f"{TARGET}; new topics left unchanged: {figures['new_topic_unchanged']}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
