"""Evidence at sentence level: which sentence of the retrieved passages answers the question?

Sentences are scored by the question's content words they hold, each weighted by how rare it
is among the candidate sentences (a keyword signal that costs microseconds), with a small
preference for the passages retrieval ranked first. The few best are then scored again with
the embedder's query encoder (a paraphrase shares meaning, not words: "regulator" and
"supervisory authority"), and the two signals are averaged. A question that asks for a figure
(how many, how much, how long, when, what percentage) is only answered by a sentence that holds
one. The best sentences choose what the model is shown (`select`), and the
best one is what the appliance quotes when a generated answer fails the support check.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from .support_check import content_words, sentences, units

ASKS_FIGURE = re.compile(r"\b(how (many|much|long|often|old|far|soon|quickly)|when|"
                         r"(what|which) (year|date|time|day|percentage|proportion|amount|fee|"
                         r"cost|price|salary|rate|number|extension|size|limit)|"
                         r"(minimum|maximum|least|most) (length|number|size|age|amount))\b", re.I)
RESCORE = 4  # sentences the embedder scores again: ~6 ms each on 2 cores
RANK_DECAY = 0.08  # a later passage's sentence needs a slightly better match to win


@dataclass(frozen=True)
class Evidence:
    passage: int   # 1-based, as the prompt numbers passages
    sentence: str
    score: float   # weighted share of the question's content words the sentence holds


def asks_for_figure(question: str) -> bool:
    return bool(ASKS_FIGURE.search(question))


def rank(question: str, passages: Sequence[str]) -> list[Evidence]:
    """Every sentence of the passages, best evidence first."""
    wanted = content_words(question)
    candidates = [(i, s, content_words(s)) for i, text in enumerate(passages, start=1)
                  for s in sentences(text)]
    if not wanted or not candidates:
        return []
    n = len(candidates)
    weight = {w: math.log(1 + n / (1 + sum(w in words for _, _, words in candidates)))
              for w in wanted}
    total = sum(weight.values())
    figure = asks_for_figure(question)
    out = []
    for i, sentence, words in candidates:
        score = sum(weight[w] for w in wanted & words) / total
        score *= (1 - RANK_DECAY) ** (i - 1)
        if figure and not units(sentence):
            score *= 0.25  # the question wants a figure this sentence does not hold
        out.append(Evidence(i, sentence, score))
    return sorted(out, key=lambda e: (-e.score, e.passage))


@dataclass(frozen=True)
class Selection:
    """What the model is shown: (index among the retrieved passages, excerpt), best first,
    and the best sentence (its `passage` numbered among these, from 1)."""

    passages: list[tuple[int, str]]
    best: Evidence | None


class EvidenceFinder:
    """The sentence to quote, when one answers the question well enough."""

    def __init__(self, embed_query: Callable[[str], np.ndarray] | None = None):
        # One answer's check asks for the question's vector several times (choosing the
        # evidence, ranking, the anchor): embed each text once.
        self.embed_query = lru_cache(maxsize=128)(embed_query) if embed_query else None

    def ranked(self, question: str, passages: Sequence[str],
               rescore_only: bool = True) -> list[Evidence]:
        """The best few sentences, their score the mean of keywords and meaning (with
        `rescore_only` False, the other sentences follow on their keyword score)."""
        scored = rank(question, passages)
        top, rest = scored[:RESCORE], ([] if rescore_only else scored[RESCORE:])
        if not top or self.embed_query is None:
            return top + rest
        q = self.embed_query(question)
        both = [Evidence(e.passage, e.sentence,
                         (e.score + float(q @ self.embed_query(e.sentence))) / 2) for e in top]
        return sorted(both, key=lambda e: (-e.score, e.passage)) + rest

    def score(self, question: str, sentence: str) -> float:
        """How well one sentence answers the question, on the scale of `ranked`."""
        wanted = content_words(question)
        share = len(wanted & content_words(sentence)) / len(wanted) if wanted else 0.0
        if asks_for_figure(question) and not units(sentence):
            share *= 0.25
        if self.embed_query is None:
            return share
        return (share + float(self.embed_query(question) @ self.embed_query(sentence))) / 2

    def anchor(self, answer: str, passage: str) -> str:
        """The sentence of the passage an answer rests on: the one sharing most of its words
        and figures."""
        words, figures = content_words(answer), units(answer)
        return max(sentences(passage, 1) or [passage],
                   key=lambda s: 2 * len(figures & units(s)) + len(words & content_words(s)))

    def select(self, question: str, passages: Sequence[str], keep: int = 3,
               per_passage: int = 2) -> Selection:
        """The passages worth showing a small model, best evidence first: (0-based index,
        excerpt). A passage's score is its best sentence's; its excerpt is its `per_passage`
        best sentences in the order it has them (the whole passage when it has no more).
        Passages holding nothing of the question are left out, unless none holds anything,
        when retrieval's order stands. The best sentence comes with it, numbered as the
        chosen passages will be shown."""
        scored = self.ranked(question, passages, rescore_only=False)
        by_passage: dict[int, list[Evidence]] = {}
        for e in scored:
            by_passage.setdefault(e.passage - 1, []).append(e)
        order = sorted((i for i in by_passage if by_passage[i][0].score > 0),
                       key=lambda i: (-by_passage[i][0].score, i))
        if not order:
            return Selection([(i, text) for i, text in enumerate(passages[:keep])], None)
        out = []
        for i in order[:keep]:
            best = {e.sentence for e in by_passage[i][:per_passage]}
            ordered = [s for s in sentences(passages[i], 1) if s in best]
            excerpt = " ".join(ordered) if len(by_passage[i]) > per_passage else passages[i]
            out.append((i, excerpt or passages[i]))
        top = by_passage[order[0]][0]
        return Selection(out, Evidence(1, top.sentence, top.score))

    def best(self, question: str, passages: Sequence[str],
             min_score: float = 0.0) -> Evidence | None:
        """The best sentence of the passages, when it scores at least `min_score`."""
        ranked = self.ranked(question, passages)
        if not ranked or ranked[0].score < min_score:
            return None
        return ranked[0]
