"""National identifiers: US_SSN, US_ITIN, US_PASSPORT, US_DRIVER_LICENSE and cheap foreign ones."""
from __future__ import annotations

import re

from ..checksums import luhn_ok, verhoeff_ok
from .base import PatternRecognizer, digits_of

_NOT_SSN = {"078051120", "219099999", "457555462"}  # published in ads / by the SSA: never valid


class UsSsnRecognizer(PatternRecognizer):
    """US Social Security numbers: area not 000/666/9xx, group not 00, serial not 0000."""

    name = entity = "US_SSN"
    required_chars = "0123456789"
    context = ("ssn", "social security", "social sec", "ss#", "ss #", "ssa")
    negative_context = ("order", "invoice", "tracking", "phone", "routing", "account", "zip")
    pattern = re.compile(r"(?<![\d-])\d{3}([- ]?)\d{2}\1\d{4}(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        s = match.group()
        d = digits_of(s)
        area, group, serial = d[:3], d[3:5], d[5:]
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            return None
        if d in _NOT_SSN or len(set(d)) == 1:
            return None
        sep = match.group(1)
        return 0.85 if sep == "-" else (0.55 if sep == " " else 0.3)


class UsItinRecognizer(PatternRecognizer):
    """US Individual Taxpayer Identification Numbers: 9XX-[50-65,70-88,90-92,94-99]-XXXX."""

    name = entity = "US_ITIN"
    required_chars = "9"
    context = ("itin", "taxpayer", "tax id", "tin", "tax identification")
    pattern = re.compile(r"(?<![\d-])9\d{2}([- ]?)(?:5\d|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])\1\d{4}(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        return 0.85 if match.group(1) == "-" else 0.3


class UsPassportRecognizer(PatternRecognizer):
    """US passport numbers (9 digits, or a letter and 8 digits). Only with a context word."""

    name = entity = "US_PASSPORT"
    score = 0.1
    context_boost = 0.6
    context = ("passport", "passport no", "passport number", "travel document")
    pattern = re.compile(r"(?<![\w-])(?:[A-Z]\d{8}|\d{9})(?![\w-])")


class UsDriverLicenseRecognizer(PatternRecognizer):
    """US driver's licence numbers in the common state formats. Only with a context word."""

    name = entity = "US_DRIVER_LICENSE"
    score = 0.1
    context_boost = 0.6
    context = ("driver", "drivers", "driver's", "license", "licence", "dl", "driving", "dmv",
               "lic", "dl#", "operator")
    negative_context = ("software", "mit", "apache", "gpl", "bsd", "key", "plate")
    pattern = re.compile(
        r"(?<![\w-])(?:[A-Z]{1,2}\d{4,14}|[A-Z]\d{3}-\d{3}-\d{2}-\d{3}-\d|[A-Z]\d{2}-\d{2}-\d{4}"
        r"|[A-Z]-\d{3}-\d{3}-\d{3}-\d{3}|\d{3}-\d{3}-\d{3}|\d{7,12})(?![\w-])")


class UkNinoRecognizer(PatternRecognizer):
    """UK National Insurance numbers (prefix rules from HMRC's NIM39110)."""

    name = entity = "UK_NINO"
    score = 0.7
    context = ("national insurance", "nino", "ni number", "ni no", "nic")
    pattern = re.compile(
        r"(?<![\w])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
        r"( ?)\d{2}\1\d{2}\1\d{2}\1[A-D](?![\w])")


class EsNifRecognizer(PatternRecognizer):
    """Spanish DNI/NIE numbers with their mod-23 check letter."""

    name = entity = "ES_NIF"
    score = 0.75
    context = ("dni", "nif", "nie", "documento")
    pattern = re.compile(r"(?<![\w-])[XYZ]?\d{7,8}-?[A-Z](?![\w-])")
    _LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

    def validate(self, match: re.Match) -> float | None:
        s = match.group().replace("-", "")
        body = s[:-1]
        if body[0] in "XYZ":
            body = str("XYZ".index(body[0])) + body[1:]
        if len(body) != 8:
            return None
        return self.score if self._LETTERS[int(body) % 23] == s[-1] else None


class InPanRecognizer(PatternRecognizer):
    """Indian Permanent Account Numbers (AAAPA1234A; the fourth letter is the holder type)."""

    name = entity = "IN_PAN"
    score = 0.5
    context = ("pan", "permanent account", "income tax")
    pattern = re.compile(r"(?<![\w])[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z](?![\w])")


class InAadhaarRecognizer(PatternRecognizer):
    """Indian Aadhaar numbers: 12 digits not starting 0/1, Verhoeff check. Needs context."""

    name = entity = "IN_AADHAAR"
    score = 0.3
    context = ("aadhaar", "aadhar", "uidai", "uid")
    pattern = re.compile(r"(?<![\d-])[2-9]\d{3}( ?)\d{4}\1\d{4}(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        return self.score if verhoeff_ok(digits_of(match.group())) else None


class CaSinRecognizer(PatternRecognizer):
    """Canadian Social Insurance Numbers: 9 digits, Luhn, not starting 0 or 8. Needs context."""

    name = entity = "CA_SIN"
    score = 0.3
    context = ("sin", "social insurance")
    pattern = re.compile(r"(?<![\d-])[1-79]\d{2}([- ]?)\d{3}\1\d{3}(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        return self.score if luhn_ok(digits_of(match.group())) else None
