"""Recognizers a policy defines: custom regexes with context words, and deny terms."""
from __future__ import annotations

import re
from typing import Iterable, Iterator

from ..findings import Finding
from .base import PatternRecognizer, words_pattern


class CustomRegexRecognizer(PatternRecognizer):
    """A policy's ``custom_recognizers`` entry: regex, base score, context words."""

    def __init__(self, name: str, entity: str, pattern: str, score: float,
                 context: Iterable[str] = (), negative_context: Iterable[str] = (),
                 ignore_case: bool = False) -> None:
        self.name = name
        self.entity = entity
        self.pattern = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        self.score = score
        self.context = tuple(context)
        self.negative_context = tuple(negative_context)
        super().__init__()


class DenyTermsRecognizer(PatternRecognizer):
    """A policy's ``deny_terms`` of one type: always flagged (score 1.0), case-insensitive."""

    def __init__(self, entity: str, terms: Iterable[str]) -> None:
        self.name = f"deny:{entity}"
        self.entity = entity
        self.score = 1.0
        self.pattern = words_pattern(tuple(terms))
        super().__init__()

    def find(self, text: str) -> Iterator[Finding]:
        for m in self.pattern.finditer(text):
            yield Finding(self.entity, m.start(), m.end(), 1.0, self.name)
