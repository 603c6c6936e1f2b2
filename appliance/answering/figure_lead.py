"""Figure leads: the figure or date that answers a how-many, how-long, when or what-percentage
question, read from the answer's own words ("27", "three years", "1862", "57.6%").

A quote answers with a whole sentence; someone asking "how many days?" wants the number first.
For a question that asks for a figure of a known kind, the lead is the one figure of that kind
the sentence holds and the question does not — verbatim, so it holds nothing the source does
not. No model is asked: the question's form says what kind of figure is wanted, and the rules
say which one.

- "how many halls ...": a number, the one followed by the counted noun when there are several
  ("29" of "four campuses hold 29 halls"); "four out of five" stays whole;
- "how long / far / old / high / much ...": a number with its measure ("three years", "105
  inches"), an amount ("$245 million") or a scaled figure ("11 million");
- "what percentage ...": a percentage;
- "when / what year / in which decade ...": a date, month and year, year, decade or century,
  or a deadline ("within 72 hours"); a range of years ("1735–1796", a reign or a life)
  answers no "when";
- "When X became president, what was ...": the later clause is the question.

With several candidates in a sentence and nothing to tell them apart, or quoted sentences giving
different figures, there is no lead: put first, a guess between two figures would read as the
answer. Written on 300 SQuAD questions disjoint from the benchmark's dev and test samples: 30
of 34 leads right (docs/performance.md).
"""
from __future__ import annotations

import re
from typing import Sequence

from .support_check import (DATE_DMY, DATE_MDY, MARKERS, MEASURES, MONTH_YEAR, _WORD,
                            _stem, content_words)

_COUNT_WORD = rf"(?:{_WORD}|(?:a )?hundred|(?:a )?dozen)"
_APPROX = (r"(?:(?:about|around|approximately|over|more than|fewer than|less than|nearly|"
           r"almost|some|up to|at least|at most|roughly)\s+)?")
_VALUE = (rf"{_APPROX}(?:[$£€]|US\$|(?:GBP|USD|EUR)\s)?(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?|"
          rf"twice|thrice|once(?=\s+(?:a|an|per|every|each)\b)|"  # "twice a year" counts
          rf"{_COUNT_WORD}(?:[-\s]{_COUNT_WORD})?)(?:\s*(?:%|percent|per cent))?"
          rf"(?:[-\s](?:plus|thousand|million|billion|trillion|hundred))*")
NUMBER = re.compile(rf"(?<![\w.]){_VALUE}(?:\s+out\s+of\s+{_VALUE})?(?![\w-])", re.I)
# a date as the check reads one (day month year, month day year, month year), a year, a
# decade, a year with its range, or a century
DATE = re.compile(rf"{DATE_DMY.pattern}|{DATE_MDY.pattern}|{MONTH_YEAR.pattern}|"
                  r"\b(?:1\d|20)\d\d(?:s|[–-]\d{2,4})?\b|\b\d{1,2}(?:st|nd|rd|th)\s+century\b",
                  re.I)
YEAR = re.compile(r"(?:1\d|20)\d\d")
_UNITS = "|".join(sorted({*MEASURES, "foot", "feet", "ft", "inch", "acre", "ton",
                           "tonne", "centimetre", "millimetre", "gallon", "pound"},
                          key=len, reverse=True))
MEASURE = re.compile(rf"\s+((?:\w+\s+)?(?:square\s+)?(?:{_UNITS})(?:e?s)?)\b", re.I)
DEADLINE = re.compile(rf"\bwithin\s+(?:\d+|{_COUNT_WORD})\s+(?:working\s+|calendar\s+|"
                      r"business\s+)?(?:hours?|days?|weeks?|months?|years?)\b", re.I)
SCALED = re.compile(r"[$£€]|US\$|GBP|USD|EUR|illion|thousand|%|per ?cent", re.I)
PERCENT = re.compile(r"%|percent|per cent", re.I)
ASKS_PERCENT = re.compile(r"\b(?:what|which) (?:percentage|percent|proportion|share)\b", re.I)
ASKS_COUNT = re.compile(r"\bhow (many|much|long|old|far|large|big|tall|high)\b(?:\s+(\w+))?",
                        re.I)
ASKS_DATE = re.compile(r"^\W*(?:(?:in|by|since|until|from) )?(?:when|(?:what|which) (?:year|"
                       r"decade|century|date|month))\b|\b(?:in|by|since|until|during) "
                       r"(?:what|which) (?:year|decade|century|month)\b|\bwhat year\b", re.I)
LATER_CLAUSE = re.compile(r"\W*when\b.*?\b((?:what|how|who|which|where)\b.*)", re.I)
WH = re.compile(r"\b(?:what|which|who|whom|whose|where|why|how|when)\b", re.I)
MEASURED = frozenset({"long", "old", "far", "tall", "high", "large", "big", "much"})


def asked_kind(question: str) -> tuple[str | None, str]:
    """What kind of figure the question asks for ("percent", "count", "date" or None), and
    for a count the noun counted or the dimension measured ("halls", "long")."""
    later = LATER_CLAUSE.match(question)
    if later:  # "When Malloy became president, what was the endowment?"
        question = later.group(1)
    first = WH.search(question)

    def leads(match: re.Match | None) -> bool:
        """Is the match's question word the question's first? "What place ..., considering
        how much he charged?" asks for a place, not an amount."""
        return bool(match and first and WH.search(question, match.start()).start()
                    == first.start())

    count = ASKS_COUNT.search(question)
    if leads(ASKS_PERCENT.search(question)):
        return "percent", ""
    if leads(count):
        how = count.group(1).lower()
        return "count", how if how in MEASURED else (count.group(2) or "").lower()
    if leads(ASKS_DATE.search(question)):
        return "date", ""
    return None, ""


def _candidates(kind: str, text: str, question: str) -> list[tuple[int, int, str]]:
    found = []
    if kind == "date":
        found = [(m.start(), m.end(), m.group(0)) for m in DATE.finditer(text)
                 if not re.search(r"\d[–-]\d", m.group(0))]  # a span of years is no date
        found += [(m.start(), m.end(), m.group(0)) for m in DEADLINE.finditer(text)]
    else:
        for m in NUMBER.finditer(text):
            value = m.group(0).strip()
            if YEAR.fullmatch(value):
                continue  # a year counts nothing
            if kind == "percent" and not PERCENT.search(value):
                continue
            found.append((m.start(), m.end(), value))
    asked = question.lower()
    return [(a, b, v) for a, b, v in found
            if not re.search(rf"(?<!\w){re.escape(v.lower())}(?!\w)", asked)]


def figure_lead(question: str, sentences: Sequence[str]) -> str:
    """The figure of the sentences that answers the question, verbatim; "" when the question
    asks for none, or the sentences hold none of the kind asked, or more than one."""
    kind, noun = asked_kind(question)
    if kind is None:
        return ""
    leads = {_lead(kind, noun, question, _plain(s)) for s in sentences} - {""}
    if None in leads or len({lead.lower() for lead in leads}) != 1:
        return ""  # none; a sentence with several; sentences with different figures
    return leads.pop()


def _plain(sentence: str) -> str:
    return MARKERS.sub("", sentence).replace("\u201c", "").replace("\u201d", "")


def _lead(kind: str, noun: str, question: str, text: str) -> str | None:
    """One sentence's figure of the kind asked (its noun ties it when it has several): ""
    when it holds none, None when it holds several and nothing tells which."""
    found = _candidates(kind, text, question)
    if kind == "count" and noun in MEASURED:  # a length, an age, an amount: with its measure
        found = [c for c in found if MEASURE.match(text[c[1]:]) or SCALED.search(c[2])]
    elif kind == "count" and noun:  # "how many halls": the number of halls, if it says
        stem = re.escape(_stem(noun)[:max(3, len(_stem(noun)) - 1)])
        tied = [c for c in found if re.match(rf"\s*(?:\w+\s+){{0,2}}?{stem}", text[c[1]:], re.I)]
        found = tied or found
    if not found:
        return ""
    if len({v.lower() for *_, v in found}) > 1:
        return None  # which of several? Put first, a wrong one would read as the answer
    start, end, value = found[0]
    measure = MEASURE.match(text[end:])
    if measure and (noun in MEASURED or not content_words(measure.group(1))
                    & content_words(question)):
        value += measure.group(0)  # "three years"; "37.5 hours" asked in days; not "27 days"
    return value.strip()
