"""Shared by the benchmark scripts: print a table, write JSON to benchmarks/results/."""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
SCIFACT = ROOT.parent / "shared" / "data" / "scifact"


def report(name: str, rows: list[tuple], headers: tuple, extra: dict | None = None) -> Path:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
    out = ROOT / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": {"cpus": os.cpu_count(),
                                              "python": platform.python_version()},
               "headers": list(headers), "rows": [list(r) for r in rows], **(extra or {})}
    out.write_text(json.dumps(payload, indent=2))
    print(f"\nwritten {out.relative_to(ROOT)}")
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    idx = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[idx]
