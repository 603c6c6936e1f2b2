"""Fixtures for the PII engine tests: policies from YAML text, redactors, a fake NER tagger."""
from __future__ import annotations

import os
import re
import textwrap

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from appliance.privacy import Redactor, parse_policy  # noqa: E402

SECRET = b"0123456789abcdef0123456789abcdef"

STRUCTURED_YAML = """
version: 1
name: test
entities:
  EMAIL: redact
  PHONE: redact
  CREDIT_CARD: {action: mask, keep_last: 4}
  IBAN: redact
  US_SSN: redact
  IP_ADDRESS: redact
  DATE: redact
  ADDRESS: redact
  URL: redact
"""


class FakeTagger:
    """Tags every capitalised two-word run as PERSON and 'Boston' as GPE: deterministic NER."""

    languages = ("en",)

    def tag(self, texts):
        out = []
        for text in texts:
            spans = [(m.start(), m.end(), "PERSON")
                     for m in re.finditer(r"\b(?:John Smith|Maria Garcia|Ana Lopez)\b", text)]
            spans += [(m.start(), m.end(), "GPE") for m in re.finditer(r"\bBoston\b", text)]
            out.append(spans)
        return out


def make_policy(yaml_text: str, source: str = "test.yaml"):
    return parse_policy(textwrap.dedent(yaml_text).encode(), source)


@pytest.fixture
def structured_policy():
    return make_policy(STRUCTURED_YAML)


@pytest.fixture
def redactor(structured_policy):
    return Redactor(structured_policy, SECRET)
