"""The hostile-file corpus through the extraction sandbox: outcome, time and memory per file.

    python benchmarks/hostile.py [--memory-mb 1024] [--json]

Builds tests/data/hostile/make_corpus.py's corpus (zip and PDF bombs, billion laughs,
recursive page trees, deep HTML, lying extensions, ...) in a temp dir and extracts each file
in a fresh sandbox child (so each file's peak is its own). Reported per file: refused (with
the error) or read, seconds, and the child's peak resident memory; a file the kernel stopped
(CPU time) is reported at the limit. Targets (issue 20): 0 crashes (every outcome is the
file's documented error or its text), 0 tracebacks, peak memory of every file <= the limit
(extract_memory_mb, default 1 GB).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _table import ROOT, report

sys.path.insert(0, str(ROOT / "tests" / "data" / "hostile"))


def main() -> None:
    import make_corpus

    from appliance.errors import IngestError
    from appliance.knowledge.file_checks import Limits
    from appliance.knowledge.sandbox import Sandbox

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    limits = Limits(memory_mb=args.memory_mb)
    rows, crashes, over = [], 0, 0
    with tempfile.TemporaryDirectory(prefix="appliance-hostile-") as tmp:
        corpus = make_corpus.build(Path(tmp))
        for name, exp in corpus.items():
            if exp.upload_only:
                continue
            data = (Path(tmp) / name).read_bytes()
            box = Sandbox(limits)
            box.last_peak_mb = -1.0  # stays so when no child was needed (an empty file)
            t0 = time.perf_counter()
            try:
                blocks = box.extract(name, data)
                outcome = f"read: {len(blocks)} blocks"
            except IngestError as exc:
                outcome = f"refused: {str(exc)[len(name) + 2:][:70]}"
            except Exception as exc:  # noqa: BLE001 - the crash this benchmark looks for
                crashes += 1
                outcome = f"CRASH {type(exc).__name__}: {exc}"[:80]
            seconds = time.perf_counter() - t0
            peak = box.last_peak_mb
            box.close()
            over += bool(peak and peak > args.memory_mb)
            shown = "".join(ch for ch in name if ch.isprintable())[:40]
            rows.append((shown, outcome, f"{seconds:.2f}", "-" if peak == -1.0 else
                         f"{peak:.0f}" if peak else f"<= {args.memory_mb} (stopped)",
                         f"{len(data) / 2**20:.2f}"))
    summary = {"files": len(rows), "crashes": crashes, "over_memory_limit": over,
               "memory_limit_mb": args.memory_mb,
               "max_peak_mb": max((float(r[3]) for r in rows if r[3][0].isdigit()), default=0),
               "max_seconds": max(float(r[2]) for r in rows),
               "target": "0 crashes, every peak <= the memory limit"}
    report("hostile", rows, ("file", "outcome", "s", "peak MB", "file MB"), summary)
    print(json.dumps(summary) if args.json else
          f"{len(rows)} files, {crashes} crashes, peak {summary['max_peak_mb']} MB "
          f"(limit {args.memory_mb}), slowest {summary['max_seconds']} s")
    if crashes or over:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
