"""The labelled development set is well formed and reproducible from its builder."""
from __future__ import annotations

import json
from pathlib import Path

from .devset_builder import build

DATA = Path(__file__).resolve().parents[1] / "data" / "pii_dev.jsonl"


def _records():
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def test_size_and_negatives():
    records = _records()
    assert len(records) >= 300
    assert sum(1 for r in records if not r["entities"]) >= 100


def test_spans_are_valid_and_disjoint():
    for r in _records():
        spans = sorted((e["start"], e["end"]) for e in r["entities"])
        for (s, e), ent in zip(spans, r["entities"]):
            assert 0 <= s < e <= len(r["text"])
        for (_, e1), (s2, _) in zip(spans, spans[1:]):
            assert e1 <= s2, r["text"]
        for ent in r["entities"]:
            value = r["text"][ent["start"]:ent["end"]]
            assert value == value.strip() and value, (ent, r["text"])


def test_file_matches_builder_output():
    assert _records() == build()
