"""Short answers: the few words of the quoted sentence that answer the question.

A quote answers with a whole sentence; someone asking "how many days?" wants "27 days" first.
The lead is a span of the quoted sentence(s), verbatim, so it can hold no figure or name the
source does not. The model chooses it: every span of up to `MAX_WORDS` words is scored as the
answer in a short extractive frame (three invented examples, then the sentence, the question
and "Answer:"), by log P(span, then end of line). Every span starting at one word is scored in
one pass (its shorter spans are its prefixes), all starts side by side in one batch, in a
scoring context of its own on the generator's weights.

Spans that only repeat the question, end on a function word or are a pseudonym alone are not
candidates; a question asking for a figure takes only spans holding one, a "who" question
only spans holding a name, and a bare figure answers only a question asking for one. The lead
is shown only when the model puts at least `MIN_SHARE` of its probability on it among the
spans of the likeliest starts; otherwise the quote stands alone.

Off by default (setting `answer_leads`): on the SQuAD dev sample leads took token F1 from 0.14
to 0.30, but 15 of the 25 leads shown were wrong, 5 of them beside a quote that held the right
answer: a 270M model's pick, put first, is read as the answer (docs/performance.md).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from .evidence import PSEUDONYM, asks_for_figure, asks_for_person
from .support_check import STOP, content_words, units
from .verification import asks_for_name, holds_a_name

MAX_WORDS = 6     # longest lead, in words
MAX_STARTS = 48   # word positions considered (a sentence pair rarely has more)
FOLLOWED = 5      # likeliest first words whose spans are scored to the end
MIN_SHARE = 0.5   # the least probability share of a lead (tuned on SQuAD dev)
EDGE = "\"'()[]{}“”‘’,;:.!?"
FRAME = (
    "Context: The library opens at 9 am and closes at 8 pm on weekdays.\n"
    "Question: When does the library close on weekdays?\nAnswer: 8 pm\n\n"
    "Context: The bridge was designed by the engineer Maria Lopez and opened in 1931.\n"
    "Question: Who designed the bridge?\nAnswer: Maria Lopez\n\n"
    "Context: Staff may carry over up to five days of unused leave into the next year.\n"
    "Question: How many days of leave can be carried over?\nAnswer: up to five days\n\n")


@dataclass(frozen=True)
class Lead:
    text: str       # verbatim words of the source sentence
    share: float | None  # the model's probability for it among the candidate spans (None:
    # not the model's pick, a figure the question's form asks for: figure_lead.py)


def _words(sentence: str) -> list[tuple[str, str]]:
    """(word as written, the word without its closing punctuation) for each word."""
    out = []
    for word in sentence.split():
        core = word.rstrip(EDGE)
        out.append((word, core))
    return out


def wants_a_name(question: str) -> bool:
    """Who, or which team / system / ...: the lead must hold a name."""
    return asks_for_person(question) or asks_for_name(question)


def _eligible(text: str, question: str, figure: bool, person: bool) -> bool:
    """Could this span answer the question? It says something the question does not, ends
    on a word that carries meaning and is not a pseudonym alone; it holds a figure when one
    is asked for, a name when a person is; a bare figure answers only a question asking
    for one."""
    tokens = re.findall(r"\w+", text.lower())
    if not tokens or tokens[-1] in STOP or PSEUDONYM.fullmatch(text):
        return False
    words = content_words(text) - content_words(question)
    if figure and not units(text):
        return False
    if not figure and not words:
        return False  # "1403" for "who was invited?"
    if person and not holds_a_name(text, question):
        return False
    return bool(units(text) - units(question) or words)


class ShortAnswerer:
    """Finds the lead of a quote with the generator's model (`generator.span_scorer()`)."""

    def __init__(self, min_share: float = MIN_SHARE):
        self.min_share = min_share

    def lead(self, generator: Any, question: str, sentences: Sequence[str]) -> Lead | None:
        make = getattr(generator, "span_scorer", None)
        text = " ".join(s.strip() for s in sentences if s.strip())
        if make is None or not text:
            return None
        scorer = make()
        if scorer is None:
            return None
        words = _words(text)[:MAX_STARTS + MAX_WORDS]
        figure, person = asks_for_figure(question), wants_a_name(question)
        with scorer.lock:
            prefix = [scorer.bos()] + scorer.tokenize(FRAME)
            scorer.keep(prefix)
            context = prefix + scorer.tokenize(f"Context: {text}\nQuestion: {question}\n"
                                               f"Answer:")
            end = scorer.tokenize("\n")[-1]
            pieces = [scorer.tokenize(" " + core) for _, core in words]  # once per word
            starts = []  # (tokens up to its last candidate, [(end, span)]) per first word
            for i in range(min(len(words), MAX_STARTS)):
                tokens, ends = [], []
                for n, (word, core) in enumerate(words[i:i + MAX_WORDS], start=1):
                    tokens += pieces[i + n - 1]
                    span = " ".join(c for _, c in words[i:i + n]).strip(EDGE)
                    if _eligible(span, question, figure, person):
                        ends.append((len(tokens), span))
                    if core != word:
                        break  # a span does not run across a comma or a full stop
                if ends:  # tokens past the last candidate are never needed
                    starts.append((tokens[:ends[-1][0]], ends))
            if not starts or len(context) + MAX_WORDS * 8 > scorer.n_ctx:
                return None
            # Where does the answer start? One row of the model's logits scores every first
            # word; only the likeliest starts are scored to their end (each row costs the
            # whole vocabulary).
            first = scorer.next_logprobs(context)
            starts.sort(key=lambda s: -first[s[0][0]])
            scored: list[tuple[float, str]] = []
            part = starts[:min(FOLLOWED, scorer.n_seq)]
            values = scorer.prefixes(context, [t for t, _ in part], end)
            for (_, ends), logps in zip(part, values):
                scored += [(logps[bound - 1], span) for bound, span in ends]
        if not scored:
            return None
        top = max(v for v, _ in scored)
        total = sum(math.exp(v - top) for v, _ in scored)
        best = max(scored)
        share = 1 / total  # among the spans of the likeliest starts
        return Lead(best[1], share) if share >= self.min_share else None


def with_lead(lead: Lead | None, quoted: str) -> str:
    """The quote, led by its short answer when there is one."""
    return f"{lead.text} \u2014 {quoted}" if lead else quoted
