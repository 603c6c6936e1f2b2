"""Overlap resolution is deterministic: score, then length, then position, then type."""
from __future__ import annotations

import itertools

from appliance.privacy.findings import Finding, resolve_overlaps


def test_higher_score_wins():
    a, b = Finding("PHONE", 0, 10, 0.7), Finding("US_SSN", 2, 11, 0.9)
    assert resolve_overlaps([a, b]) == [b]


def test_equal_score_longer_wins_then_type_name():
    short, long_ = Finding("A", 0, 5, 0.8), Finding("B", 0, 9, 0.8)
    assert resolve_overlaps([short, long_]) == [long_]
    x, y = Finding("ZED", 0, 5, 0.8), Finding("ALPHA", 0, 5, 0.8)
    assert resolve_overlaps([x, y]) == [y]


def test_same_type_overlaps_merge_into_their_union():
    merged = resolve_overlaps([Finding("PERSON", 0, 4, 0.6), Finding("PERSON", 2, 10, 0.8)])
    assert [(f.start, f.end, f.score) for f in merged] == [(0, 10, 0.8)]


def test_result_is_independent_of_input_order():
    findings = [Finding("A", 0, 5, 0.5), Finding("B", 3, 8, 0.5), Finding("C", 7, 12, 0.9),
                Finding("D", 20, 25, 0.1)]
    results = {tuple(resolve_overlaps(p)) for p in itertools.permutations(findings)}
    assert len(results) == 1
    (only,) = results
    assert all(not a.overlaps(b) for a, b in itertools.combinations(only, 2))
