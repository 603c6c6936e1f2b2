"""Automatic pre-labels for logged answers: suggestions for the reviewer, never a human's label.

They judge the answer as shown (after the support check), first match wins (docs/quality.md
has the rules with their measured precision):

1. retrieval_miss  no passage was shown: nothing readable matched the question.
2. wrong_reasoning the answer is a refusal although a shown sentence answers the question
                   (its evidence score reaches `answer_min_evidence`): the knowledge was there.
   A refusal with no such sentence gets no suggestion: without the true answer, "not in the
   documents" (correct) and a retrieval miss look the same (on the audit set, 81 of 87 such
   refusals were correct).
3. wrong_fact      a quoted answer whose sentence barely matches the question (evidence below
                   QUOTE_DOUBT, 0.45): the quote step showed a sentence that does not answer.
4. wrong_fact      the model's answer, shown as generated, holds a figure (number, amount,
                   date, code) that neither the question nor any shown passage holds.
5. wrong_format    a shown non-refusal answer that cites nothing, runs past `answer_max_words`,
                   or is in another language than the question.
Otherwise no suggestion ("correct" is left to people). For a quoted answer the reason also
says what the model's own answer did wrong, which `advise` counts as failures the check
caught.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from ..answering import NOT_AN_ANSWER, LoggedAnswer, units

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
STOPWORDS = {  # the most frequent function words: enough to tell the language of a sentence
    "en": {"the", "is", "are", "of", "and", "to", "in", "what", "how", "who", "for", "a",
           "does", "do", "it", "on", "with", "be", "by", "this", "that", "not", "many"},
    "de": {"der", "die", "das", "ist", "und", "zu", "wie", "wer", "was", "nicht", "ein",
           "eine", "mit", "von", "für", "den", "dem", "sind", "auf", "viele", "wird"},
    "fr": {"le", "la", "les", "est", "et", "de", "des", "que", "qui", "quel", "quelle",
           "pas", "un", "une", "pour", "dans", "sur", "combien", "du", "au", "sont"},
    "es": {"el", "la", "los", "las", "es", "y", "de", "que", "qué", "quién", "cuántos",
           "no", "un", "una", "para", "en", "por", "con", "del", "son", "cómo"},
    "nl": {"de", "het", "is", "en", "van", "een", "wat", "wie", "hoe", "niet", "voor",
           "met", "op", "zijn", "dat", "die", "hoeveel", "wordt"},
}


QUOTE_DOUBT = 0.45  # below it a quoted sentence rarely answers (set on the audit set)


@dataclass(frozen=True)
class Rules:
    min_evidence: float = 0.35   # answer_min_evidence
    max_words: int = 120         # answer_max_words

    @classmethod
    def from_settings(cls, settings: Any) -> "Rules":
        return cls(settings.answer_min_evidence, settings.answer_max_words)


def language(text: str) -> str | None:
    """The language whose function words the text uses most (None when too few to tell)."""
    words = [w.lower() for w in WORD.findall(text)]
    if len(words) < 4:
        return None
    counts = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items()}
    best = max(counts, key=counts.get)
    ranked = sorted(counts.values(), reverse=True)
    return best if ranked[0] >= 2 and ranked[0] > ranked[1] else None


def model_failure(entry: LoggedAnswer) -> str | None:
    """What was wrong with the model's own words when the check replaced them (None: nothing
    measured, or they were fine)."""
    check = entry.check or {}
    if entry.path == "generated" or check.get("model_refused") is None:
        return None
    if check["model_refused"]:
        return "wrong_reasoning" if entry.path == "quoted" else None
    shown_text = " ".join(p.get("text", "") for p in entry.shown)
    if units(entry.model_answer) - units(entry.question) - units(shown_text):
        return "wrong_fact"
    if check.get("supported") is False and check.get("unsupported_reason") not in NOT_AN_ANSWER:
        return "wrong_fact"
    # supported, but resting on a sentence that does not answer; or words of the sources that
    # answer something else (only repeating the question, leaving out the name asked for)
    return "wrong_reasoning"


def prelabel(entry: LoggedAnswer, rules: Rules = Rules()) -> tuple[str | None, str]:
    """(suggested label or None, the rule's reason)."""
    check = entry.check or {}
    best = check.get("best_score")
    if not entry.shown:
        return "retrieval_miss", "no passage was shown: nothing readable matched the question"
    if entry.path == "refused":
        if best is not None and best >= rules.min_evidence:
            return "wrong_reasoning", (f"refused although a shown sentence answers the question "
                                       f"(evidence {best:.2f} >= {rules.min_evidence:g})")
        return None, ("refused, and no shown sentence answers the question (best evidence "
                      f"{0.0 if best is None else best:.2f}): correct if the documents do not "
                      "hold the answer, a retrieval miss if they do")
    if entry.path == "quoted":
        caught = model_failure(entry)
        model = (f"; the model's own answer was {caught.replace('_', ' ')}: {entry.reason}"
                 if caught else "")
        if best is not None and best < QUOTE_DOUBT:
            return "wrong_fact", (f"quoted a sentence that barely matches the question "
                                  f"(evidence {best:.2f} < {QUOTE_DOUBT:g}){model}")
        return None, "quoted a source sentence" + model
    shown_text = " ".join(p.get("text", "") for p in entry.shown)
    invented = sorted(units(entry.answer) - units(entry.question) - units(shown_text))
    if invented:
        return "wrong_fact", f"figure(s) in no shown passage: {', '.join(invented[:3])}"
    problem = format_problem(entry.question, entry.answer, entry.citations, rules)
    if problem:
        return "wrong_format", problem
    return None, "no rule applies"


def format_problem(question: str, answer: str, citations: list, rules: Rules) -> str:
    if not citations:
        return "the answer cites no source"
    words = len(answer.split())
    if words > rules.max_words:
        return f"{words} words, longer than {rules.max_words}"
    asked, said = language(question), language(answer)
    if asked and said and asked != said:
        return f"answered in {said}, asked in {asked}"
    return ""


def prelabel_pending(log: Any, entries: Iterable[LoggedAnswer], rules: Rules) -> dict[int, str]:
    """Pre-label the entries that have no suggestion yet; store and return them."""
    todo = {e.id: prelabel(e, rules) for e in entries
            if e.suggestion is None and not e.suggestion_reason}
    if todo:
        log.suggest(todo)
    return {i: label for i, (label, _) in todo.items()}

