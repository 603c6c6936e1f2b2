"""NER-backed types (PERSON, LOCATION, ORGANIZATION) from an injected tagger.

The tagger is any object with ``tag(texts) -> list[list[(start, end, label)]]`` using OntoNotes
labels (PERSON, ORG, GPE, LOC, FAC, ...); appliance.engines.ner provides the spaCy one. This
module stays model-free: it maps labels to our types, trims titles and scores spans.
"""
from __future__ import annotations

import re
from typing import Iterator, Protocol, Sequence

from ..findings import Finding
from .base import Recognizer

NER_TYPES = ("PERSON", "LOCATION", "ORGANIZATION")
_LABELS = {"PERSON": "PERSON", "ORG": "ORGANIZATION", "GPE": "LOCATION", "LOC": "LOCATION",
           "FAC": "LOCATION"}
_INSTITUTION = re.compile(r"\b(?:Hospital|Clinic|Center|Centre|Infirmary|University|College|"
                          r"Institute|Bank|School|Medical|Health|Pharmacy|Laboratory|Labs?)\b")
_TITLE = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Sir|Dame|Rev|Nurse|Patient)\.?\s+)+")
# Words the model glues onto the front of a name ("Dear Maria Lopez", "Contact John Smith").
_LEAD = re.compile(r"^(?:Dear|Hi|Hello|Hey|Contact|Attn|Attention|From|To|Cc|Thanks|Ask|Call|"
                   r"Email|Mail|Message|Ping|Per|Patient|Client|Customer|Member|Employee|User)\s+")
_TITLE_BEFORE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Sir|Dame)\.?\s+$")
_CODE = re.compile(r"[_=/{}<>@#$%^*|\\\[\]]|(?:^|\s)-\w")
_POSSESSIVE = re.compile(r"(?:'s|’s|')$")
_SCORES = {"PERSON": 0.85, "LOCATION": 0.8, "ORGANIZATION": 0.75}
# Field labels and units the small model sometimes tags as organisations or places.
_NOT_NAMES = frozenset({
    "dob", "ssn", "mrn", "npi", "dl", "id", "iban", "bic", "swift", "pin", "cvv", "aba", "rtn",
    "itin", "ein", "tin", "dea", "vin", "ip", "mac", "url", "email", "e-mail", "tel", "fax",
    "phone", "mobile", "acct", "a/c", "nhs number", "pt", "hx", "dx", "rx", "bp", "hr", "icu",
    "er", "ed", "ct", "mri", "ecg", "ekg", "bmi", "mg", "ml", "kg", "cbc", "pdf", "csv", "json",
    "api", "sql", "http", "https", "utc", "gmt", "pst", "est", "cet", "usd", "eur", "gbp",
    "social security", "medicare", "medicaid"})


class EntityTagger(Protocol):
    """A batch NER model: character spans with OntoNotes labels for each text."""

    languages: tuple[str, ...]

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]: ...


class NerRecognizer(Recognizer):
    """Turns tagger spans into PERSON / LOCATION / ORGANIZATION findings."""

    name = "NER"
    entity = "PERSON"
    entities = NER_TYPES
    languages = ("en",)
    needs_ner = True

    def __init__(self, tagger: EntityTagger, types: Sequence[str] = NER_TYPES) -> None:
        self.tagger = tagger
        self.types = frozenset(types)

    def find(self, text: str) -> Iterator[Finding]:
        return iter(self.find_many([text])[0])

    def find_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings for each text, tagging them in one batch."""
        out = []
        for text, spans in zip(texts, self.tagger.tag(list(texts))):
            found = []
            for start, end, label in spans:
                f = self._finding(text, start, end, label)
                if f is not None and f.type in self.types:
                    found.append(f)
            out.append(found)
        return out

    def _finding(self, text: str, start: int, end: int, label: str) -> Finding | None:
        entity = _LABELS.get(label)
        if entity is None:
            return None
        span = text[start:end]
        if label == "FAC" and _INSTITUTION.search(span):
            entity = "ORGANIZATION"
        if _CODE.search(span):
            return None  # command lines and identifiers, not names
        lead = _LEAD.match(span)
        if lead and len(span) > lead.end():
            start += lead.end()
            span = text[start:end]
        if entity != "PERSON" and _TITLE_BEFORE.search(text[max(0, start - 6):start]):
            entity = "PERSON"  # "Dr. Okafor" is a person whatever the model thought
        if entity == "PERSON":
            title = _TITLE.match(span)
            if title:
                start += title.end()
            possessive = _POSSESSIVE.search(text[start:end])
            if possessive:
                end -= len(possessive.group())
        if label in ("ORG", "GPE", "LOC", "FAC") and text[start:start + 4].lower() == "the ":
            start += 4
        span = text[start:end]
        if not span or not any(c.isupper() for c in span) or any(c.isdigit() for c in span):
            return None  # lower-case or numeric spans are the model's noise, not names
        if span.casefold() in _NOT_NAMES:
            return None
        score = _SCORES[entity]
        if span.isupper() and len(span) <= 5:
            score = 0.45  # short acronyms are rarely names: below the usual 0.5 threshold
        if "\n" in span:
            return None
        return Finding(entity, start, end, round(score, 3), self.name)
