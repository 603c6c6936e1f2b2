"""The real NER engine (spaCy model installed from PyPI) behind the Redactor."""
from __future__ import annotations

import pytest

from appliance.privacy import Redactor

from .conftest import SECRET, make_policy

spacy_tagger = pytest.importorskip("appliance.engines.ner")


@pytest.fixture(scope="module")
def tagger():
    return spacy_tagger.SpacyTagger()


def test_people_places_and_organisations(tagger):
    policy = make_policy("entities:\n  PERSON: pseudonym\n  LOCATION: redact\n  ORGANIZATION: redact\n")
    r = Redactor(policy, SECRET, ner=tagger)
    text = "Dr. Emily Chen saw John Smith in Boston before he flew to work at Microsoft."
    found = {(f.type, text[f.start:f.end]) for f in r.detect(text)}
    assert {("PERSON", "Emily Chen"), ("PERSON", "John Smith"), ("LOCATION", "Boston"),
            ("ORGANIZATION", "Microsoft")} <= found
    out = r.redact(text, "output", scope="c1").text
    assert out == "Dr. PERSON_1 saw PERSON_2 in [LOCATION] before he flew to work at [ORGANIZATION]."


def test_batches_and_long_texts_keep_offsets(tagger):
    texts = ["no names here at all", "Maria Garcia lives in Madrid.",
             "filler text. " * 2000 + "Then Maria Garcia arrived."]
    spans = tagger.tag(texts)
    assert spans[0] == []
    for text, found in zip(texts[1:], spans[1:]):
        assert any(text[s:e] == "Maria Garcia" for s, e, _ in found)
