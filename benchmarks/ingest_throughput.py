"""End-to-end ingest throughput (extract, chunk, redact, embed, store, both indexes).

    python benchmarks/ingest_throughput.py [--docs 1000]

Ingests SciFact abstracts written out as markdown files into a fresh data dir through the
real IngestService, twice: with the default PII policy (spaCy NER pseudonymises names at
ingest) and with the same policy minus the NER entities (PERSON, LOCATION, ORGANIZATION), which
is the pipeline the target names: extraction, embedding, both indexes, store.
Target (issue 3): >= 80 chunks/s on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _table import ROOT, SCIFACT, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=1000)
    args = parser.parse_args()
    from appliance.services import build_services
    from appliance.settings import load_settings

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "corpus"
        src.mkdir()
        with open(SCIFACT / "corpus.jsonl") as fh:
            for i, line in enumerate(fh):
                if i >= args.docs:
                    break
                rec = json.loads(line)
                (src / f"{rec['_id']}.md").write_text(f"# {rec['title']}\n\n{rec['text']}\n")
        structured = Path(tmp) / "structured-only.yaml"
        structured.write_text("".join(
            line for line in (ROOT / "policies" / "default.yaml").read_text().splitlines(True)
            if not line.strip().startswith(("PERSON:", "LOCATION:", "ORGANIZATION:")))
            .replace("name: default", "name: structured-only"))
        for policy_label, policy in (("default (NER on)", "default"),
                                     ("structured only (no NER)", str(structured))):
            data_dir = Path(tmp) / ("ner" if policy == "default" else "structured")
            app = build_services(load_settings({"data_dir": str(data_dir),
                                                "pii_policy": policy}))
            _ = app.embedder, app.indexes, app.redactor  # load models outside the timing
            t0 = time.perf_counter()
            result = app.ingest.ingest_paths([src], progress=False)
            seconds = time.perf_counter() - t0
            chunks = result.chunks_added
            rows.append((policy_label, len(result.files), chunks, round(seconds, 1),
                         round(chunks / seconds, 1), round(len(result.files) / seconds, 1)))
            app.close()
    report("ingest_throughput", rows, ("pii policy", "files", "chunks", "seconds", "chunks/s",
                                       "files/s"), {"target_chunks_per_s": 80})


if __name__ == "__main__":
    main()
