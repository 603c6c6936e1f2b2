"""DATE: calendar dates more specific than a year (HIPAA treats those as identifiers)."""
from __future__ import annotations

import re

from .base import PatternRecognizer

_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
           "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_WEEKDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\.?,?\s+)?"

_PATTERNS = [
    # 2024-03-15, 2024/03/15, 2024.03.15, with an optional time.
    rf"(?P<iso>{_YEAR}([-/.])(?:0?[1-9]|1[0-2])\2(?:0?[1-9]|[12]\d|3[01]))(?:[T ]\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?",
    # 03/15/2024, 15.03.2024, 3-15-24 (a two-digit year only with / or -).
    r"(?P<num>(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|[12]\d|3[01])\4(?:(?:19|20)\d{2}|\d{2}))",
    # Tuesday, March 15th, 2024 / Mar. 15 2024 / March 15 / March 2024.
    rf"(?P<mdy>{_WEEKDAY}{_MONTH}\.?\s+{_DAY}(?:,?\s+{_YEAR})?|{_MONTH}\.?,?\s+{_YEAR})",
    # 15 March 2024 / 15th of March, 2024 / 15-Mar-2024 / 15 March.
    rf"(?P<dmy>{_WEEKDAY}{_DAY}(?:\s+of)?[\s-]+{_MONTH}\.?(?:,?[\s-]+{_YEAR})?)",
    # 03/2024 and 2024-03 (month and year).
    rf"(?P<my>(?:0?[1-9]|1[0-2])/{_YEAR})",
]


class DateRecognizer(PatternRecognizer):
    """Dates with a day or month: numeric (ISO, US, European) and written (English months)."""

    name = entity = "DATE"
    score = 0.85
    context = ("dob", "born", "birth", "date", "admitted", "discharged", "seen", "visit", "on",
               "died", "deceased", "expires", "dated", "since", "appointment", "surgery")
    negative_context = ("version", "release", "section", "rule", "build", "v", "figure", "table")
    pattern = re.compile(r"(?<![\w/.:-])(?:" + "|".join(_PATTERNS) + r")(?![\w]|[/:-]\d|\.\d)")

    def validate(self, match: re.Match) -> float | None:
        kind = match.lastgroup
        if kind == "num":
            a, b, year = re.split(r"[/.-]", match.group("num"))
            if len(year) == 2 and match.group(4) == ".":
                return None  # 1.2.33 is a version number far more often than a date
            if int(a) > 12 and int(b) > 12:
                return None  # neither order is a valid month/day
            return self.score
        if kind == "mdy":
            has_year = re.search(r"\d{4}", match.group())
            has_day = re.search(rf"{_MONTH}\.?\s+{_DAY}(?!\d)", match.group())
            return self.score if has_year and has_day else 0.6
        if kind == "dmy":
            return self.score if re.search(r"\d{4}", match.group()) else 0.6
        if kind == "my":
            return 0.5
        return self.score
