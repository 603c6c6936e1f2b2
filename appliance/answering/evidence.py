"""Evidence at sentence level: which sentence of the retrieved passages answers the question?

Sentences are scored by the question's content words they hold, each weighted by how rare it
is among the candidate sentences (a keyword signal that costs microseconds), with a small
preference for the passages retrieval ranked first. The few best are then scored again with
the embedder's query encoder (a paraphrase shares meaning, not words: "regulator" and
"supervisory authority"), and the two signals are averaged. A question that asks for a figure
(how many, how much, how long, when, what percentage) is only answered by a sentence that holds
one (for "how often", one that says how often in words will do: "every year", "not on a fixed
schedule"), a "who" question by one that names someone (a name, a pseudonym, or a role or
body: "the line manager", "the service desk"), and a "where" question by one that names a
place ("in the RiskTrack register", "at Fort Owen") or a name the question does not hold. The
best sentences choose what the model is shown (`select`), and the best one is what the
appliance quotes when a generated answer fails the support check.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .support_check import content_words, names, sentences, units

ASKS_FIGURE = re.compile(r"\b(how (many|much|long|often|old|far|soon|quickly)|when|"
                         r"(what|which) (year|date|time|day|percentage|proportion|amount|fee|"
                         r"cost|price|salary|rate|number|extension|size|limit)|"
                         r"(minimum|maximum|least|most) (length|number|size|age|amount))\b", re.I)
# "How often?" is answered by a number of times, or by a word for a frequency or its absence
# ("every year", "annually", "do not expire on a fixed schedule").
ASKS_FREQUENCY = re.compile(r"\bhow often\b", re.I)
FREQUENCY_WORDS = re.compile(r"\b(?:hourly|daily|weekly|fortnightly|monthly|quarterly|annually|"
                             r"yearly|every|each (?:day|week|month|quarter|year)|per (?:day|"
                             r"week|month|quarter|year)|a (?:day|week|month|year)|schedule|"
                             r"never|regularly|periodically|continuously)\b", re.I)
# "who ..." asks for someone: a person, a role or a body. A sentence naming none cannot answer.
ASKS_PERSON = re.compile(r"^\W*(?:(?:and|but|so|with|to|by|for|from|of) )?(who|whom|whose)\b|"
                         r"\b(which|what) (person|people|man|woman|role)\b", re.I)
# "where ..." asks for a place: a sentence that names none ("in the RiskTrack register", "at
# Fort Owen", "on the intranet") cannot answer.
ASKS_PLACE = re.compile(r"^\W*(?:(?:and|but|so) )?where\b", re.I)
ORIGIN = re.compile(r"\b(?:come|came|comes|originate|originated|derive|derived|get|got)\b",
                    re.I)  # "where does X come from" asks for an origin, not a place
PLACE = re.compile(r"\b(?:in|at|on|into|inside|from|to|via|through|near|outside|within)\s+"
                   r"(?:the\s+|a\s+|an\s+|our\s+|their\s+|its\s+)?(?:[\w-]+\s+){0,2}?"
                   r"(?:[A-Z][\w-]*[A-Za-z]|(?:register|system|folder|office|room|ward|building|"
                   r"site|portal|intranet|website|drive|desk|cabinet|area|department|floor|"
                   r"city|town|village|country|state|region|county|province|island|river|"
                   r"valley|street|road|park|campus|hospital|school|church|library|centre|"
                   r"center|house|court|prison|camp|station|port|airport|file|database|"
                   r"record|log|app|tool)s?)\b")
PSEUDONYM = re.compile(r"\b[A-Z]+_\d+\b")  # a name the PII policy replaced (PERSON_3)
AGENT = re.compile(r"\b[a-z]{3,}(?:er|or|ist|ian|ant|ent|ee|ive|ary|ic|ess)s?\b|\b(?:team|desk|"
                   r"department|committee|board|staff|office|authority|body|council|unit|"
                   r"service|police|court|government|panel|group|company|firm|band|army|"
                   r"people|person|member|king|queen|chief|head|owner|nurse|doctor|"
                   r"lead|colleague|hr|you|they|he|she|we)s?\b")
RESCORE = 4  # sentences the embedder scores again: ~6 ms each on 2 cores
RANK_DECAY = 0.08  # a later passage's sentence needs a slightly better match to win


@dataclass(frozen=True)
class Evidence:
    passage: int   # 1-based, as the prompt numbers passages
    sentence: str
    score: float   # weighted share of the question's content words the sentence holds
    order: int = 0  # the sentence's place in its passage


def asks_for_figure(question: str) -> bool:
    return bool(ASKS_FIGURE.search(question))


def holds_a_figure(sentence: str, often: bool = False) -> bool:
    """Could the sentence give the figure a question asks for? It holds one, or, for a
    how-often question (`often`), says how often in words."""
    return bool(units(sentence)) or bool(often and FREQUENCY_WORDS.search(sentence))


def asks_for_person(question: str) -> bool:
    return bool(ASKS_PERSON.search(question))


def asks_for_place(question: str) -> bool:
    start = ASKS_PLACE.search(question)
    verb = start and ORIGIN.search(question, start.end())
    return bool(start) and not (verb and re.search(r"\bfrom\b", question[verb.end():], re.I))


def names_a_place(sentence: str, asked: frozenset[str] | set[str] = frozenset()) -> bool:
    """Could the sentence say where: a place, a system or a body after "in / at / on / to ..."
    ("tracked in the RiskTrack register", "at Fort Owen", "on the intranet"), or a name not
    among the question's own (`asked`: its names()) ("Lake Kariba is the largest ...")?"""
    return bool(PLACE.search(sentence) or names(sentence) - asked)


def names_someone(sentence: str) -> bool:
    """Does the sentence name a person, a role or a body? A proper name, a pseudonym, or a
    word for one ("the line manager", "the service desk", "the auditor")."""
    return bool(names(sentence) or PSEUDONYM.search(sentence)
                or AGENT.search(sentence.lower()))


def rank(question: str, passages: Sequence[str], focus: str = "") -> list[Evidence]:
    """Every sentence of the passages, best evidence first. `focus`: a follow-up's own words
    (the question is then the follow-up rewritten with the earlier question's words): they
    count double, and a sentence holding none of them is not about the follow-up."""
    wanted = content_words(question)
    own = content_words(focus) & wanted
    candidates = [(i, k, s, content_words(s)) for i, text in enumerate(passages, start=1)
                  for k, s in enumerate(sentences(text))]
    if not wanted or not candidates:
        return []
    n = len(candidates)
    weight = {w: math.log(1 + n / (1 + sum(w in words for *_, words in candidates)))
              for w in wanted}
    for w in own:
        weight[w] *= 2
    total = sum(weight.values())
    # what the question asks for, read once: the loop below runs for every sentence
    figure, person = asks_for_figure(question), asks_for_person(question)
    often = bool(ASKS_FREQUENCY.search(question))
    place = asks_for_place(question)
    asked = names(question) if place else set()
    out = []
    for i, k, sentence, words in candidates:
        score = sum(weight[w] for w in wanted & words) / total
        score *= (1 - RANK_DECAY) ** (i - 1)
        if figure and not holds_a_figure(sentence, often):
            score *= 0.25  # the question wants a figure this sentence does not hold
        elif person and not names_someone(sentence):
            score *= 0.25  # the question asks who; this sentence names no one
        elif place and not names_a_place(sentence, asked):
            score *= 0.25  # the question asks where; this sentence names no place
        if own and not own & words:
            score *= 0.25  # about the earlier question, not this follow-up
        out.append(Evidence(i, sentence, score, k))
    return sorted(out, key=lambda e: (-e.score, e.passage))


class EvidenceFinder:
    """The sentence to quote, when one answers the question well enough."""

    def __init__(self, embed_query: Callable[[str], np.ndarray] | None = None):
        """`embed_query`: the embedder's query encoder (it keeps the last texts' vectors, so
        the question retrieval embedded and sentences scored twice cost nothing more)."""
        self.embed_query = embed_query

    def ranked(self, question: str, passages: Sequence[str],
               rescore_only: bool = True, focus: str = "") -> list[Evidence]:
        """The best few sentences, their score the mean of keywords and meaning (with
        `rescore_only` False, the other sentences follow on their keyword score)."""
        scored = rank(question, passages, focus)
        top, rest = scored[:RESCORE], ([] if rescore_only else scored[RESCORE:])
        if not top or self.embed_query is None:
            return top + rest
        q = self.embed_query(question)
        both = [Evidence(e.passage, e.sentence,
                         (e.score + float(q @ self.embed_query(e.sentence))) / 2, e.order)
                for e in top]
        return sorted(both, key=lambda e: (-e.score, e.passage)) + rest

    def score(self, question: str, sentence: str, scored: Sequence[Evidence]) -> float:
        """How well one sentence answers the question, on the scale of `scored` (a `ranked`
        list with `rescore_only` False), so it compares with the best sentence's score."""
        for position, entry in enumerate(scored):
            if entry.sentence == sentence:
                if position < RESCORE or self.embed_query is None:
                    return entry.score  # already keywords and meaning (or keywords alone)
                q = self.embed_query(question)
                return (entry.score + float(q @ self.embed_query(sentence))) / 2
        return 0.0

    def anchor(self, answer: str, passage: str) -> str:
        """The sentence of the passage an answer rests on: the one sharing most of its words
        and figures."""
        words, figures = content_words(answer), units(answer)
        return max(sentences(passage, 1) or (passage,),
                   key=lambda s: 2 * len(figures & units(s)) + len(words & content_words(s)))

    def select(self, question: str, passages: Sequence[str], keep: int = 3,
               per_passage: int = 2, focus: str = "") -> list[tuple[int, str]]:
        """The passages worth showing a small model, best evidence first: (0-based index,
        excerpt). A passage's score is its best sentence's; its excerpt is its `per_passage`
        best sentences in the order it has them (the whole passage when it has no more).
        Passages holding nothing of the question are left out, unless none holds anything,
        when retrieval's order stands."""
        scored = self.ranked(question, passages, rescore_only=False, focus=focus)
        by_passage: dict[int, list[Evidence]] = {}
        for e in scored:
            by_passage.setdefault(e.passage - 1, []).append(e)
        order = sorted((i for i in by_passage if by_passage[i][0].score > 0),
                       key=lambda i: (-by_passage[i][0].score, i))
        if not order:
            return [(i, text) for i, text in enumerate(passages[:keep])]
        out = []
        for i in order[:keep]:
            best = {e.sentence for e in by_passage[i][:per_passage]}
            ordered = [s for s in sentences(passages[i], 1) if s in best]
            excerpt = " ".join(ordered) if len(by_passage[i]) > per_passage else passages[i]
            out.append((i, excerpt or passages[i]))
        return out
