"""Recognizer: finds one entity type in text; PatternRecognizer adds regex + validation + context."""
from __future__ import annotations

import re
from typing import ClassVar, Iterator

from ..findings import Finding

CONTEXT_BEFORE = 48   # characters looked at before a match for context words
CONTEXT_AFTER = 24
CONTEXT_BOOST = 0.35
NEGATIVE_PENALTY = 0.4


def words_pattern(words: tuple[str, ...]) -> re.Pattern | None:
    """One case-insensitive regex matching any of ``words`` as whole words (None for none)."""
    if not words:
        return None
    alts = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z])(?:{alts})(?![A-Za-z])", re.IGNORECASE)


class Recognizer:
    """Base class. Subclasses set ``name`` (registry key) and ``entity`` and implement find()."""

    name: ClassVar[str] = ""
    entity: ClassVar[str] = ""
    # Languages the recognizer understands; "*" means it is language-independent.
    languages: ClassVar[tuple[str, ...]] = ("*",)
    # Set when the recognizer needs an injected NER tagger rather than plain text rules.
    needs_ner: ClassVar[bool] = False

    def find(self, text: str) -> Iterator[Finding]:
        raise NotImplementedError


class PatternRecognizer(Recognizer):
    """A regex proposes candidates, ``validate`` rejects or scores them, context adjusts scores.

    ``required_chars``: a cheap pre-check; when none of them is in the text the regex is skipped.
    ``context``/``negative_context``: words near a match raise / lower its score.
    """

    pattern: ClassVar[re.Pattern]
    score: ClassVar[float] = 0.5
    context: ClassVar[tuple[str, ...]] = ()
    negative_context: ClassVar[tuple[str, ...]] = ()
    required_chars: ClassVar[str] = ""
    context_boost: ClassVar[float] = CONTEXT_BOOST

    def __init__(self) -> None:
        self._context_re = words_pattern(self.context)
        self._negative_re = words_pattern(self.negative_context)

    def validate(self, match: re.Match) -> float | None:
        """The base score for a candidate, or None to reject it. Default: accept at ``score``."""
        return self.score

    def find(self, text: str) -> Iterator[Finding]:
        if self.required_chars and not any(c in text for c in self.required_chars):
            return
        for m in self.pattern.finditer(text):
            score = self.validate(m)
            if score is None:
                continue
            start, end = m.span()
            score = self.adjust(text, start, end, score)
            if score > 0:
                yield Finding(self.entity, start, end, round(min(score, 1.0), 3), self.name)

    def adjust(self, text: str, start: int, end: int, score: float) -> float:
        """Raise the score when a context word is near, lower it when a negative one is.

        The boost shrinks slightly with distance so that, of two recognizers competing for the
        same digits, the one whose context word is closer wins.
        """
        if self._context_re is None and self._negative_re is None:
            return score
        lo = max(0, start - CONTEXT_BEFORE)
        before, after = text[lo:start], text[end:end + CONTEXT_AFTER]
        if self._context_re is not None:
            distance = _nearest(self._context_re, before, after)
            if distance is not None:
                score += self.context_boost * (1.0 - 0.004 * distance)
        # Negative words only count as the value's own label: before it ("Order 123") and with
        # no other number in between ("SSN 536-22-8126 and (415) 555-2671" is still a phone).
        if self._negative_re is not None:
            label = _after_last_digit(before[-32:])
            if self._negative_re.search(label):
                score -= NEGATIVE_PENALTY
        return score


def _after_last_digit(s: str) -> str:
    for i in range(len(s) - 1, -1, -1):
        if s[i].isdigit():
            return s[i + 1:]
    return s


def _nearest(words: re.Pattern, before: str, after: str) -> int | None:
    """Characters between the match and the closest context word, or None when there is none."""
    best = None
    for m in words.finditer(before):
        best = len(before) - m.end()
    m = words.search(after)
    if m is not None and (best is None or m.start() < best):
        best = m.start()
    return best


def digits_of(s: str) -> str:
    """Only the ASCII digits of ``s``."""
    return "".join(c for c in s if "0" <= c <= "9")
