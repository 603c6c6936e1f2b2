"""The streaming redactor never emits part of an identifier, wherever the tokens split."""
from __future__ import annotations

import random

import pytest

from appliance.privacy import Redactor

from .conftest import SECRET, STRUCTURED_YAML, FakeTagger, make_policy

TEXT = ("Hi, my card is 4111 1111 1111 1111 and my email is ana.lopez@example.com. "
        "Call (415) 555-2671 or +44 20 7946 0958 today. SSN 536-22-8126, IBAN "
        "DE89 3704 0044 0532 0130 00 was used on 03/15/2024.\nThanks, John Smith from Boston")
VALUES = ["4111 1111 1111 1111", "ana.lopez@example.com", "(415) 555-2671", "+44 20 7946 0958",
          "536-22-8126", "DE89 3704 0044 0532 0130 00", "03/15/2024", "John Smith", "Boston"]


@pytest.fixture(scope="module")
def redactor():
    policy = make_policy(STRUCTURED_YAML + "  PERSON: redact\n  LOCATION: redact\n")
    return Redactor(policy, SECRET, ner=FakeTagger())


def _run(redactor, pieces):
    """Feed pieces; check every emission keeps the output a prefix of the batch result."""
    expected = redactor.redact("".join(pieces), "output").text
    stream = redactor.stream("output")
    shown = ""
    for piece in pieces:
        shown += stream.feed(piece)
        assert expected.startswith(shown), (pieces, shown)
    shown += stream.flush()
    return expected, shown, stream


def test_batch_result_hides_every_value(redactor):
    out = redactor.redact(TEXT, "output").text
    for v in VALUES:
        assert v not in out


def test_split_at_every_boundary_into_two_pieces(redactor):
    for i in range(len(TEXT) + 1):
        expected, shown, _ = _run(redactor, [TEXT[:i], TEXT[i:]])
        assert shown == expected


def test_one_character_at_a_time(redactor):
    expected, shown, stream = _run(redactor, list(TEXT))
    assert shown == expected
    assert stream.counts == {"CREDIT_CARD": 1, "EMAIL": 1, "PHONE": 2, "US_SSN": 1, "IBAN": 1,
                             "DATE": 1, "PERSON": 1, "LOCATION": 1}


def test_random_token_like_splits(redactor):
    rng = random.Random(7)
    for _ in range(60):
        cuts = sorted(rng.sample(range(1, len(TEXT)), rng.randint(2, 40)))
        pieces = [TEXT[a:b] for a, b in zip([0] + cuts, cuts + [len(TEXT)])]
        expected, shown, _ = _run(redactor, pieces)
        assert shown == expected


def test_text_is_released_before_the_end(redactor):
    stream = redactor.stream("output")
    early = stream.feed("The weather report for the coming week says it will be sunny and warm. ")
    assert early.startswith("The weather report")


def test_long_run_without_safe_cut_is_forced_out_but_never_inside_a_value(redactor):
    text = "ALPHA BETA GAMMA " * 30 + "4111 1111 1111 1111 " + "DELTA " * 20
    expected, shown, _ = _run(redactor, [text[i:i + 3] for i in range(0, len(text), 3)])
    assert shown == expected and "4111" not in shown


def test_paths_without_rules_pass_through(redactor):
    policy = make_policy("paths: [ingest]\nentities:\n  EMAIL: redact\n")
    r = Redactor(policy, SECRET)
    stream = r.stream("output")
    assert stream.feed("a@example.com ") == "a@example.com "


def test_feed_after_flush_is_an_error(redactor):
    stream = redactor.stream("output")
    stream.flush()
    with pytest.raises(ValueError):
        stream.feed("more")
