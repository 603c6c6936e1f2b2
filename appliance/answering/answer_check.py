"""AnswerCheck: is the source an answer cites about the question it was asked?

A grounded-answers adapter copies a sentence from the source it cites. When no source answers
the question it still finds an on-topic sentence to copy, and its first answer token hardly
tells the two cases apart. How close the cited source is to the question does: the cosine
between the embedded question and the embedded text of the source the answer cites first
separates answerable from unanswerable CLAPnq questions better than the answer's own words do
(AUC 0.90 against 0.82 on run E's calibration questions, docs/tuning.md), and it treats a
two-word answer ("1998") like a sentence. Below a threshold, calibrated per adapter by
`tune eval`, the answer is replaced by the refusal. The check needs the whole answer (its
citation), so a checked answer is shown when it is complete. An answer that cites no source
is measured by its own words.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np

from .prompts import cited_numbers

LEAD = re.compile(r"^\s*According to (\[\d{1,2}\][\s,]*(and\s*)?)+:?\s*", re.I)
MARKERS = re.compile(r"\s*\[\d{1,2}\]")


def answer_body(answer: str) -> str:
    """The answer's words: without the "According to [n]:" lead-in or citation markers."""
    return MARKERS.sub("", LEAD.sub("", answer)).strip()


class AnswerCheck:
    """Relevance of an answer to its question, and the threshold currently served."""

    def __init__(self, embed_query: Callable[[str], np.ndarray],
                 threshold: Callable[[], float | None] = lambda: None, measure: bool = False):
        """`threshold()` is read before each answer: None means answers are not held back,
        and their relevance is not measured unless `measure` (calibration wants it)."""
        self.embed_query = embed_query
        self.threshold = threshold
        self.measure = measure

    def relevance(self, question: str, answer: str,
                  sources: Sequence[str] = ()) -> float | None:
        """Cosine of the question and the first source the answer cites among `sources` (the
        texts shown as [1], [2], ...), or the answer's own words when it cites none of them;
        None when the answer has no words."""
        body = answer_body(answer)
        if not body:
            return None
        cited = cited_numbers(answer, len(sources))
        text = sources[cited[0] - 1] if cited else body
        return float(self.embed_query(question) @ self.embed_query(text))
