"""Short factual questions made from public text by templates: the answer is a phrase in a sentence.

Each template turns one declarative sentence into an "echo" question by replacing a phrase with a
question phrase ("completed in 1889" → "completed in which year?"), or asks for a definition
("X is a peptide hormone ..." → "What is X?"). Crude, but the answer is always a short span of
the source, which is exactly the behaviour being taught: copy the fact, cite it, don't invent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

MIN_WORDS, MAX_WORDS = 8, 32
YEAR = re.compile(r"\b([Ii]n|[Bb]y|[Ss]ince|[Uu]ntil) ((?:1[5-9]|20)\d\d)\b(?! ?[-–%])")
QUANTITY = re.compile(r"(?<![\d.\-–])\b(\d[\d,]*(?:\.\d+)?) (percent|million|billion|people|years|months|"
                      r"days|hours|minutes|kilometres|kilometers|km|miles|metres|meters|feet|"
                      r"patients|participants|species|members|episodes|songs|books|games|"
                      r"countries|states|votes|seats|times|weeks|cells|genes|mice)\b")
AGENT = re.compile(r"\bby ((?:[A-Z][a-z]+|[A-Z]\.)(?: (?:[A-Z][a-z]+|[A-Z]\.|de|van|von)){0,3})"
                   r"(?= ?[.,;]| (?:in|on|and|for|at|with|as|from|after|during|to|of)\b)")
DEFINITION = re.compile(r"^(?:The )?([A-Z][\w' -]{1,40}?) (is|was|are|were) ((?:a|an|the) .+)$")
DEF_CUT = re.compile(r"\s(?:,|;|\(|which|that|who|whose|where|and is|and was)\s")


@dataclass(frozen=True)
class FactualItem:
    question: str
    answer: str  # the span, as the reference answer
    reply: str  # the full answer sentence the model should give, without the citation
    sentence: str
    kind: str


def sentences(text: str) -> Iterator[str]:
    for raw in re.split(r"(?<=[.!?])\s+(?=[A-Z])", " ".join(text.split())):
        words = raw.split()
        if MIN_WORDS <= len(words) <= MAX_WORDS and raw.endswith("."):
            yield raw


def _question(sentence: str, span: tuple[int, int], replacement: str) -> str:
    q = sentence[:span[0]] + replacement + sentence[span[1]:]
    q = re.sub(r"\s*\.$", "", q).strip()
    return q[0].upper() + q[1:] + "?"


def items_from_sentence(sentence: str) -> Iterator[FactualItem]:
    m = YEAR.search(sentence)
    if m:
        prep = m.group(1).lower()
        yield FactualItem(_question(sentence, m.span(), f"{prep} which year"), m.group(2),
                          f"{prep.capitalize()} {m.group(2)}", sentence, "year")
    m = QUANTITY.search(sentence)
    if m and not sentence[:m.start()].rstrip().endswith(("$", "£", "€")):
        noun = m.group(2)
        if noun == "percent":
            yield FactualItem(_question(sentence, m.span(), "what percentage"),
                              f"{m.group(1)} percent", f"{m.group(1)} percent", sentence,
                              "quantity")
        else:
            yield FactualItem(_question(sentence, m.span(), f"how many {noun}"),
                              f"{m.group(1)} {noun}", f"{m.group(1)} {noun}", sentence,
                              "quantity")
    m = AGENT.search(sentence)
    if m and m.start() > 10:
        yield FactualItem(_question(sentence, m.span(), "by whom"), m.group(1),
                          f"By {m.group(1)}", sentence, "agent")


def definition_item(sentence: str) -> FactualItem | None:
    m = DEFINITION.match(re.sub(r"\s*\.$", "", sentence))
    if not m or len(m.group(1).split()) > 5:
        return None
    phrase = DEF_CUT.split(m.group(3))[0].strip(" ,;")
    words = phrase.split()
    if not 2 <= len(words) <= 14:
        return None
    subject, verb = m.group(1).strip(), m.group(2)
    question = f"What {verb} {subject}?"
    return FactualItem(question, phrase, f"{subject} {verb} {phrase}", sentence, "definition")


def factual_items(text: str) -> list[FactualItem]:
    """Every templated question the text yields (the definition only from its first sentence)."""
    out: list[FactualItem] = []
    for i, sentence in enumerate(sentences(text)):
        if i == 0:
            item = definition_item(sentence)
            if item:
                out.append(item)
        out.extend(items_from_sentence(sentence))
    return out
