"""`appliance eval retrieval`: ingest a BEIR corpus into a throwaway data dir and score search."""
from __future__ import annotations

import csv
import dataclasses
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from tqdm import tqdm

from ..errors import ApplianceError
from ..settings import Settings
from .metrics import summarize


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ApplianceError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def corpus_files(corpus: Path) -> Iterator[tuple[str, bytes]]:
    """Each BEIR record as a markdown file named by its _id (title as the heading)."""
    for rec in read_jsonl(corpus):
        title = (rec.get("title") or "").strip()
        body = (rec.get("text") or "").strip()
        text = f"# {title}\n\n{body}\n" if title else body + "\n"
        yield f"{rec['_id']}.md", text.encode("utf-8")


def evaluate_retrieval(settings: Settings, corpus: Path, queries: Path, qrels_path: Path,
                       build: Callable[[Settings], Any], progress: bool = True,
                       depth: int = 100) -> dict:
    """`build` wires services for a settings object (services.build_services)."""
    qrels = read_qrels(qrels_path)
    qs = [q for q in read_jsonl(queries) if q["_id"] in qrels]
    count = sum(1 for _ in read_jsonl(corpus))
    with tempfile.TemporaryDirectory(prefix="appliance-eval-") as tmp:
        eval_settings = dataclasses.replace(settings, data_dir=Path(tmp), database_url="",
                                            retrieval_candidates=max(settings.retrieval_candidates,
                                                                     depth * 3))
        app = build(eval_settings)
        report = app.ingest.ingest_files(corpus_files(corpus), count, "eval", progress, None)
        if report.failed:
            print(f"warning: {len(report.failed)} corpus records failed to ingest",
                  file=sys.stderr)
        runs = {}
        for q in tqdm(qs, desc="queries", disable=not progress, file=sys.stderr):
            result = app.retriever.search(q["text"], k=depth * 3)
            ranked: list[str] = []
            for hit in result.hits:  # a document scores as the best of its chunks
                doc = hit.doc_name.removesuffix(".md")
                if doc not in ranked:
                    ranked.append(doc)
            runs[q["_id"]] = ranked[:depth]
        app.close()
    return summarize(runs, qrels)
