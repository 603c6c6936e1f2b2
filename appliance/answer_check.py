"""AnswerCheck: does an answer address the question it was asked?

A grounded-answers adapter copies a sentence from the source it cites. When no source answers
the question it still finds an on-topic sentence to copy, and its first answer token hardly
tells the two cases apart. Whether the copied sentence answers the question does: the cosine
between the embedded question and the embedded answer (its citation lead-in and markers
removed) separates answerable from unanswerable CLAPnq questions far better (docs/tuning.md).
Below a threshold, calibrated per adapter by `tune eval`, the answer is replaced by the
refusal. The check needs the whole answer, so a checked answer is shown when it is complete.

A short answer (a year, a number, a name: SHORT_ANSWER_WORDS words or fewer) is not checked:
two words and a question are a poor match in embedding space whether or not they answer it,
and the check refused most correct short factual answers (docs/tuning.md, run D).
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

LEAD = re.compile(r"^\s*According to (\[\d{1,2}\][\s,]*(and\s*)?)+:?\s*", re.I)
MARKERS = re.compile(r"\s*\[\d{1,2}\]")
SHORT_ANSWER_WORDS = 3


def answer_body(answer: str) -> str:
    """The answer's words: without the "According to [n]:" lead-in or citation markers."""
    return MARKERS.sub("", LEAD.sub("", answer)).strip()


def exempt(answer: str) -> bool:
    """Short answers are served unchecked (see the module docstring)."""
    return 0 < len(answer_body(answer).split()) <= SHORT_ANSWER_WORDS


class AnswerCheck:
    """Relevance of an answer to its question, and the threshold currently served."""

    def __init__(self, embed_query: Callable[[str], np.ndarray],
                 threshold: Callable[[], float | None] = lambda: None, measure: bool = False):
        """`threshold()` is read before each answer: None means answers are not held back,
        and their relevance is not measured unless `measure` (calibration wants it)."""
        self.embed_query = embed_query
        self.threshold = threshold
        self.measure = measure

    def relevance(self, question: str, answer: str) -> float | None:
        """Cosine of question and answer vectors; None when the answer has no words."""
        body = answer_body(answer)
        if not body:
            return None
        return float(self.embed_query(question) @ self.embed_query(body))
