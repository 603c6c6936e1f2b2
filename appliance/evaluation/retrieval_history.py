"""`eval retrieval` results kept per index build, so a settings change (another embedder,
other chunking or fusion) is compared with the build measured before it on the same data.

One JSON line per run in <data_dir>/evaluations/retrieval.jsonl: the build (embedder sha256
and the settings that shape the index and the search), the data's sha256, the metrics."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

BUILD_SETTINGS = ("chunk_size", "chunk_overlap", "fusion", "retrieval_candidates",
                  "query_precision", "embed_dtype")
FILE = Path("evaluations") / "retrieval.jsonl"


def build_of(settings, embedder_sha256: str) -> dict:
    """What makes an index build: the embedder and the settings that change what it holds
    or how it is searched; `id` is their digest."""
    build = {"embedder_sha256": embedder_sha256,
             **{name: getattr(settings, name) for name in BUILD_SETTINGS}}
    build["id"] = hashlib.sha256(json.dumps(build, sort_keys=True).encode()).hexdigest()[:12]
    return build


def data_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def record(data_dir: Path, build: dict, data_sha256: str, metrics: dict) -> dict | None:
    """Append this run; return the latest earlier run on the same data with another build
    (None when there is none)."""
    path = Path(data_dir) / FILE
    previous = None
    for row in history(data_dir):
        if row.get("data_sha256") == data_sha256 and row.get("build", {}).get("id") != build["id"]:
            previous = row
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "build": build,
           "data_sha256": data_sha256, "metrics": metrics}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, sort_keys=True) + "\n")
    return previous


def history(data_dir: Path) -> list[dict]:
    path = Path(data_dir) / FILE
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a crash: the rest still counts
        if isinstance(row, dict):
            rows.append(row)
    return rows


def changed_settings(before: dict, after: dict) -> list[str]:
    return [f"{k}: {before.get(k)} → {after.get(k)}" for k in sorted(after)
            if k != "id" and before.get(k) != after.get(k)]


def format_comparison(previous: dict, build: dict, metrics: dict) -> list[str]:
    lines = [f"compared with build {previous['build']['id']} measured {previous['at']}:"]
    lines += [f"  {change}" for change in changed_settings(previous["build"], build)]
    for key, value in metrics.items():
        old = previous["metrics"].get(key)
        if isinstance(value, (int, float)) and isinstance(old, (int, float)):
            lines.append(f"  {key:>11}  {old} → {value} ({value - old:+.4f})")
    return lines
