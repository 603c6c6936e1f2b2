"""Healthcare identifiers: US_NPI, UK_NHS, MEDICAL_RECORD_NUMBER, US_DEA, HEALTH_PLAN_ID, AGE."""
from __future__ import annotations

import re

from ..checksums import luhn_ok, nhs_ok
from .base import PatternRecognizer, digits_of


class UsNpiRecognizer(PatternRecognizer):
    """US National Provider Identifiers: 10 digits starting 1 or 2, Luhn over "80840" + digits."""

    name = entity = "US_NPI"
    score = 0.3
    context_boost = 0.5
    context = ("npi", "national provider", "provider id", "provider number", "prescriber")
    negative_context = ("phone", "tel", "fax", "call", "order", "invoice")
    pattern = re.compile(r"(?<![\d-])[12]\d{9}(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        return self.score if luhn_ok("80840" + match.group()) else None


class UkNhsRecognizer(PatternRecognizer):
    """UK NHS numbers: 10 digits (often 3-3-4) with the mod-11 check digit."""

    name = entity = "UK_NHS"
    score = 0.4
    context_boost = 0.45
    context = ("nhs", "nhs number", "nhs no", "health service", "chi")
    negative_context = ("phone", "tel", "fax", "call", "mobile", "order", "invoice")
    pattern = re.compile(r"(?<![\d-])\d{3}([ -]?)\d{3}\1\d{4}(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        d = digits_of(match.group())
        return self.score if len(set(d)) > 1 and nhs_ok(d) else None


class MedicalRecordNumberRecognizer(PatternRecognizer):
    """Medical record numbers: facility formats vary, so only an identifier next to "MRN" etc."""

    name = entity = "MEDICAL_RECORD_NUMBER"
    score = 0.1
    context_boost = 0.65
    context = ("mrn", "medical record", "record number", "record no", "chart", "chart number",
               "patient id", "patient number", "hospital number", "med rec", "mr#", "mr #", "emr")
    pattern = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*\d{3})(?:[A-Z]{1,4}-?)?\d[\d-]{3,14}\d(?![\w-])")


class UsDeaRecognizer(PatternRecognizer):
    """US DEA registration numbers: 2 letters + 7 digits, with the DEA check digit."""

    name = entity = "US_DEA"
    score = 0.6
    context = ("dea", "registration", "prescriber")
    pattern = re.compile(r"(?<![\w])[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}(?![\w])")

    def validate(self, match: re.Match) -> float | None:
        d = [int(c) for c in match.group()[2:]]
        check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
        return self.score if check == d[6] else None


class HealthPlanIdRecognizer(PatternRecognizer):
    """Health plan beneficiary numbers: Medicare MBIs by format, other member ids by context."""

    name = entity = "HEALTH_PLAN_ID"
    score = 0.1
    context_boost = 0.6
    context = ("member id", "member number", "member #", "subscriber", "policy number", "policy no",
               "medicare", "medicaid", "insurance id", "beneficiary id", "plan id", "group number",
               "mbi", "health plan")
    # The MBI alphabet excludes S, L, O, I, B and Z.
    _MBI = re.compile(r"[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y]"
                      r"[AC-HJKMNP-RT-Y0-9]\d[AC-HJKMNP-RT-Y]{2}\d{2}")
    pattern = re.compile(r"(?<![\w-])(?=(?:[A-Z-]*\d){3})[A-Z0-9]{2,6}-?[A-Z0-9]{4,12}(?![\w-])")

    def validate(self, match: re.Match) -> float | None:
        return 0.6 if self._MBI.fullmatch(match.group()) else self.score


class AgeOver89Recognizer(PatternRecognizer):
    """Ages of 90 and over, which HIPAA's Safe Harbor treats as identifying."""

    name = "AGE_OVER_89"
    entity = "AGE"
    score = 0.75
    pattern = re.compile(
        r"(?<![\w.])(?:9\d|1[01]\d)(?:[- ]years?[- ]old|[- ]y/?o\b|[- ]year-old|\s+yrs?\b)"
        r"|(?<=\baged )(?:9\d|1[01]\d)\b|(?<=\bage )(?:9\d|1[01]\d)\b", re.IGNORECASE)
