"""SupportCheck: does the passage an answer cites say what the answer says?

A small model copies from its sources but also misreads them: it swaps a figure for one from
another passage or invents one. The check reads the answer's factual units (numbers, amounts,
percentages, dates, durations, codes and proper names), normalised so that "27" and
"twenty-seven", "210,000" and "210000", "1 March 2026" and "2026-03-01" compare equal, and
requires each to occur in the cited passage (or in the question: echoing the question invents
nothing). The answer's other content words must be largely covered by the passage too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

MARKERS = re.compile(r"\s*\[\d{1,2}\]")
MONTHS = {m: i for i, m in enumerate(
    ("january february march april may june july august september october november "
     "december").split(), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
          "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
          "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
           "k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
_WORD = "|".join(sorted([*_UNITS, *_TENS], key=len, reverse=True))
NUMBER_WORDS = re.compile(rf"\b(?:{_WORD})(?:[-\s](?:{_WORD}))?"
                          rf"(?:\s+(?:hundred|thousand|million))?\b", re.I)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?,?\s+(\d{{4}})\b",
                      re.I)
DATE_MDY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
DATE_NUM = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")  # day first, as UK documents write
MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{4}})\b", re.I)
TIME = re.compile(r"\b(\d{1,2})[:.](\d{2})\s*(am|pm)?\b", re.I)
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s*(k|m|bn|thousand|"
                    r"million|billion)\b)?", re.I)
# Identifiers mix letters and digits (SEC-042, ISO27001, Q3); "3rd", "10k" and "5m" are numbers.
CODE = re.compile(r"\b(?!\d+(?:st|nd|rd|th|k|m|bn)\b)(?=[A-Za-z0-9-]*[A-Za-z])"
                  r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b", re.I)
FREQUENCIES = {"once": 1, "twice": 2, "thrice": 3}  # "twice a year" is a figure too
FREQUENCY = re.compile(r"(?<!\bat )\b(?:once|twice|thrice)\b", re.I)  # not "at once"
NAME = re.compile(r"\b[A-Z][a-z]+(?:['’][a-z]+)?\b")
WORDS = re.compile(r"[a-z]+")
# A figure with its measure ("3 years") must come with the same measure in the passage: a
# passage that says "31 days" and elsewhere "3 members" does not back "3 years".
MEASURES = ("second", "minute", "hour", "day", "week", "month", "year", "character", "digit",
            "time", "session", "attempt", "member", "people", "person", "staff", "bed", "room",
            "page", "mile", "km", "kilometre", "metre", "meter", "kg", "gram", "litre", "shift")
QUANTITY = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?:working\s+|calendar\s+|"
                      r"business\s+|full\s+|consecutive\s+)?(" + "|".join(MEASURES) +
                      r")(?:e?s)?\b", re.I)
# Sentences end at . ! ? before a capital, at line breaks and before an inline bullet: "•"
# anywhere, "-" or "*" only after a colon or a sentence's end ("Requirements: - one - two").
# A spaced dash inside a sentence ("the policy - which applies to all staff - says") and a
# tokenised hyphen ("man - made") are not breaks.
SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[A-Z0-9])|\s*\n+\s*|\s+(?=•\s)|"
                   r"(?<=[:;.!?])\s+(?=[-*]\s)")
MIN_WORDS = 4
STOP = frozenset("""a about above after again all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each either few
for from further had has have having he her here hers him his how i if in into is it its itself
just may me might more most must my no nor not now of off on once only or other our out over own
per same she should so some such than that the their them then there these they this those
through to too under until up upon very was we were what when where which while who whom why
will with within without would you your according answer source sources yes""".split())


@dataclass(frozen=True)
class Support:
    """The verdict on one answer against one passage."""

    supported: bool
    missing: tuple[str, ...] = ()     # factual units found in neither passage nor question
    coverage: float = 1.0             # share of the other content words the passage holds
    reason: str = ""
    units: tuple[str, ...] = field(default=())


@lru_cache(maxsize=2048)
def sentences(text: str, min_words: int = MIN_WORDS) -> tuple[str, ...]:
    """The sentences of a passage, as written (bullets, lines and table rows count too)."""
    parts = (p.strip(" -•*|\t") for p in SPLIT.split(text))
    return tuple(p for p in parts if len(p.split()) >= min_words)


def _number(text: str) -> str:
    """A canonical number: no separators, no trailing zeros ("210,000.0" → "210000")."""
    value = float(text.replace(",", ""))
    return str(int(value)) if value.is_integer() else repr(round(value, 6))


def _words_to_number(phrase: str) -> int | None:
    total, current = 0, 0
    for word in re.split(r"[-\s]+", phrase.lower()):
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0
        else:
            return None
    return total + current


def _time(match: re.Match) -> str:
    hour, half = int(match[1]), (match[3] or "").lower()
    if half:
        hour = hour % 12 + (12 if half == "pm" else 0)
    return f"time:{hour:02d}:{match[2]}"


def _scaled(match: re.Match) -> str:
    whole, frac, scale = match.group(1), match.group(2), match.group(3)
    value = float(whole.replace(",", "") + ("." + frac if frac else ""))
    if scale:
        value *= _SCALES[scale.lower()]
    return _number(repr(value))


@lru_cache(maxsize=8192)  # the same passages and sentences are read several times an answer
def units(text: str) -> frozenset[str]:
    """The factual units of a text, normalised."""
    text = MARKERS.sub("", text)
    found: set[str] = set()

    def take(pattern: re.Pattern, make) -> None:
        nonlocal text
        for match in pattern.finditer(text):
            found.add(make(match))
        text = pattern.sub(" ", text)

    take(DATE_DMY, lambda m: f"date:{int(m[3]):04d}-{MONTHS[m[2].lower()]:02d}-{int(m[1]):02d}")
    take(DATE_MDY, lambda m: f"date:{int(m[3]):04d}-{MONTHS[m[1].lower()]:02d}-{int(m[2]):02d}")
    take(DATE_ISO, lambda m: f"date:{m[1]}-{m[2]}-{m[3]}")
    take(DATE_NUM, lambda m: f"date:{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}")
    take(MONTH_YEAR, lambda m: f"date:{int(m[2]):04d}-{MONTHS[m[1].lower()]:02d}")
    take(TIME, _time)
    take(CODE, lambda m: "code:" + m[0].upper().replace("-", ""))
    take(FREQUENCY, lambda m: f"times:{FREQUENCIES[m[0].lower()]}")
    for match in NUMBER_WORDS.finditer(text):
        value = _words_to_number(match[0])
        if value is not None and match[0].lower() not in ("one",):  # "one of" is not a figure
            found.add(_number(str(value)))
    text = NUMBER_WORDS.sub(" ", text)
    take(NUMBER, _scaled)
    return frozenset(found)


def with_parts(found: set[str]) -> set[str]:
    """A full date also vouches for its month, its year and its day ("1 March 2026" backs an
    answer of "March 2026" or "2026")."""
    out = set(found)
    for unit in found:
        if unit.startswith("date:"):
            parts = unit[5:].split("-")
            out.add(str(int(parts[0])))
            if len(parts) == 3:
                out.update({f"date:{parts[0]}-{parts[1]}", str(int(parts[2]))})
    return out


def quantities(text: str) -> set[str]:
    """Figures with their measure, normalised: "twenty-seven working days" → "27 day"."""
    text = NUMBER_WORDS.sub(lambda m: str(_words_to_number(m[0]) or m[0]), MARKERS.sub("", text))
    return {f"{_number(m[1])} {m[2].lower()}" for m in QUANTITY.finditer(text)}


def names(text: str) -> set[str]:
    """Capitalised words that do not merely open a sentence, lowercased: likely proper names."""
    text = MARKERS.sub("", text)
    out = set()
    for match in NAME.finditer(text):
        before = text[:match.start()].rstrip()
        word = match[0].lower()
        if before and before[-1] not in ".!?:\"“(" and word not in STOP and word not in MONTHS:
            out.add(word)
    return out


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


_FIGURE_WORDS = frozenset([*_UNITS, *_TENS, *_SCALES, *MONTHS])
_MEASURE_WORDS = frozenset({_stem(m + "s") for m in MEASURES} | set(MEASURES))


@lru_cache(maxsize=8192)
def content_words(text: str) -> frozenset[str]:
    """Lowercased, lightly stemmed words that carry meaning (figures are units, not words)."""
    return frozenset(_stem(w) for w in WORDS.findall(MARKERS.sub("", text).lower())
                     if w not in STOP and w not in _FIGURE_WORDS and len(w) > 2)


class SupportCheck:
    """Checks answers against their cited passage; `min_coverage` of the content words."""

    def __init__(self, min_coverage: float = 0.5):
        self.min_coverage = min_coverage

    @staticmethod
    def _unbound(answer: str, passage: str, question: str, claimed: set[str]) -> list[str]:
        """Figures the passage holds only in sentences about something else: "3 years" of
        forensic evidence does not back "camera footage is kept for 3 years"."""
        about = (content_words(answer) - _MEASURE_WORDS) or (content_words(question)
                                                              - _MEASURE_WORDS)
        if not about:
            return []  # a bare figure says nothing to tie it to
        out = []
        for unit in sorted(claimed):
            holding = [s for s in sentences(passage, 1) if unit in with_parts(units(s))]
            if holding and not any(about & content_words(s) for s in holding):
                out.append(f"{unit} (said of something else)")
        return out

    def check(self, answer: str, passage: str, question: str = "") -> Support:
        allowed = with_parts(units(passage) | units(question))
        claimed = units(answer)
        missing = sorted(u for u in claimed if u not in allowed)
        if not missing:
            measured = quantities(passage) | quantities(question)
            missing = sorted(q for q in quantities(answer) if q not in measured)
        if not missing:
            missing = self._unbound(answer, passage, question, claimed - units(question))
        known_words = content_words(passage) | content_words(question)
        for name in sorted(names(answer)):
            if _stem(name) not in known_words:
                missing.append(f"name:{name}")
        words = content_words(answer) - {_stem(n) for n in names(answer)}
        words = {w for w in words if not any(ch.isdigit() for ch in w)}
        coverage = len(words & known_words) / len(words) if words else 1.0
        claimed_units = tuple(sorted(claimed))
        if missing:
            return Support(False, tuple(missing), coverage,
                           "not in the cited passage: " + ", ".join(missing), claimed_units)
        if coverage < self.min_coverage:
            return Support(False, (), coverage,
                           f"the cited passage covers {coverage:.0%} of the answer's words",
                           claimed_units)
        return Support(True, (), coverage, "", claimed_units)
