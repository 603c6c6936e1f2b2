"""Score the PII engine on a labelled JSONL set: per-type precision/recall/F1, negatives, speed.

Records: {"text": ..., "entities": [{"type", "start", "end"}]}; a record with no entities is a
negative. A prediction is correct when it overlaps a gold span of the same type (and a gold
span is found when some prediction of its type overlaps it).

    .venv/bin/python benchmarks/pii.py [--data tests/data/pii_dev.jsonl] [--policy default]
                                       [--out benchmarks/results/pii.json] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STRUCTURED = ("EMAIL", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "PHONE")
CONTEXTUAL = ("PERSON", "LOCATION", "ORGANIZATION", "ADDRESS", "DATE")
TARGETS = {"structured_precision": 0.99, "structured_recall": 0.98, "contextual_micro_f1": 0.80,
           "negatives_flagged_max": 0.05, "chars_per_s_structured": 200_000,
           "chars_per_s_ner": 50_000}


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(records: list[dict], predictions: list[list[dict]]) -> dict:
    """Per-type counts and metrics, plus the share of negatives with any prediction."""
    c = defaultdict(lambda: {"pred": 0, "pred_ok": 0, "gold": 0, "gold_found": 0})
    neg = neg_flagged = 0
    for rec, pred in zip(records, predictions):
        gold = rec["entities"]
        if not gold:
            neg += 1
            neg_flagged += bool(pred)
        for p in pred:
            c[p["type"]]["pred"] += 1
            c[p["type"]]["pred_ok"] += any(_match(p, g) for g in gold)
        for g in gold:
            c[g["type"]]["gold"] += 1
            c[g["type"]]["gold_found"] += any(_match(p, g) for p in pred)
    types = {t: _metrics(v) for t, v in sorted(c.items())}
    return {"types": types, "negatives": neg, "negatives_flagged": neg_flagged,
            "negatives_flagged_share": neg_flagged / neg if neg else 0.0}


def _match(p: dict, g: dict) -> bool:
    return p["type"] == g["type"] and p["start"] < g["end"] and g["start"] < p["end"]


def _metrics(v: dict) -> dict:
    p = v["pred_ok"] / v["pred"] if v["pred"] else (1.0 if not v["gold"] else 0.0)
    r = v["gold_found"] / v["gold"] if v["gold"] else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {**v, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def micro(types: dict, names) -> dict:
    tot = {k: sum(types.get(t, {}).get(k, 0) for t in names) for k in ("pred", "pred_ok", "gold", "gold_found")}
    return _metrics(tot)


def run(redactor, texts: list[str], batch: int) -> tuple[list[list[dict]], float]:
    preds, start = [], time.perf_counter()
    for i in range(0, len(texts), batch):
        for findings in redactor.detect_many(texts[i:i + batch]):
            preds.append([f.as_dict() for f in findings])
    return preds, time.perf_counter() - start


def speed(redactor, texts: list[str], batch: int, repeat: int) -> float:
    from appliance.privacy.recognizers import reset_caches
    chars = sum(map(len, texts))
    run(redactor, texts[:batch], batch)  # warm-up: first-call costs are not throughput
    times = []
    for _ in range(repeat):
        reset_caches()  # every pass starts cold, as new text would
        times.append(run(redactor, texts, batch)[1])
    return chars / min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "tests/data/pii_dev.jsonl"))
    ap.add_argument("--policy", default="default")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/pii.json"))
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes (the best one counts)")
    args = ap.parse_args(argv)

    from appliance.engines.ner import SpacyTagger
    from appliance.privacy import Redactor, load_policy
    from appliance.privacy.policy import NER_TYPES

    records = load(Path(args.data))
    texts = [r["text"] for r in records]
    policy = load_policy(args.policy, ROOT / "policies")
    secret = b"benchmark-secret-not-used-for-detection"
    full = Redactor(policy, secret, ner=SpacyTagger() if policy.uses_ner else None)
    structured = Redactor(policy.without_types(NER_TYPES), secret)

    preds, _ = run(full, texts, args.batch)
    result = score(records, preds)
    result["structured_only"] = score(records, run(structured, texts, args.batch)[0])
    result["chars"] = sum(map(len, texts))
    result["chars_per_s_structured"] = round(speed(structured, texts, args.batch, args.repeat))
    result["chars_per_s_ner"] = round(speed(full, texts, args.batch, args.repeat))
    result["structured_micro"] = micro(result["types"], STRUCTURED)
    result["contextual_micro"] = micro(result["types"], CONTEXTUAL)
    result["policy"] = {"name": policy.name, "sha256": policy.sha256}
    result["data"] = {"path": args.data, "records": len(records)}
    result["targets"] = check_targets(result)
    print_table(result)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


def check_targets(r: dict) -> dict:
    t = r["types"]
    out = {}
    for name in STRUCTURED:
        m = t.get(name, _metrics({"pred": 0, "pred_ok": 0, "gold": 0, "gold_found": 0}))
        out[f"{name} precision>=0.99"] = m["precision"] >= TARGETS["structured_precision"]
        out[f"{name} recall>=0.98"] = m["recall"] >= TARGETS["structured_recall"]
    out["contextual micro F1>=0.80"] = r["contextual_micro"]["f1"] >= TARGETS["contextual_micro_f1"]
    out["negatives flagged<=5%"] = r["negatives_flagged_share"] <= TARGETS["negatives_flagged_max"]
    out["structured chars/s>=200k"] = r["chars_per_s_structured"] >= TARGETS["chars_per_s_structured"]
    out["NER chars/s>=50k"] = r["chars_per_s_ner"] >= TARGETS["chars_per_s_ner"]
    return out


def print_table(r: dict) -> None:
    print(f"{'type':<24}{'gold':>6}{'pred':>6}{'prec':>8}{'recall':>8}{'F1':>8}")
    for name, m in r["types"].items():
        print(f"{name:<24}{m['gold']:>6}{m['pred']:>6}{m['precision']:>8.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}")
    for label, key in (("micro structured", "structured_micro"), ("micro contextual", "contextual_micro")):
        m = r[key]
        print(f"{label:<24}{m['gold']:>6}{m['pred']:>6}{m['precision']:>8.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}")
    print(f"\nnegatives flagged: {r['negatives_flagged']}/{r['negatives']} "
          f"({100 * r['negatives_flagged_share']:.1f}%); structured-only: "
          f"{100 * r['structured_only']['negatives_flagged_share']:.1f}%")
    print(f"speed: {r['chars_per_s_structured']:,} chars/s structured only, "
          f"{r['chars_per_s_ner']:,} chars/s with NER ({r['chars']:,} chars, one process)")
    print("\ntargets:")
    for name, ok in r["targets"].items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")


if __name__ == "__main__":
    raise SystemExit(main())
