"""Contact and network identifiers: EMAIL, PHONE, URL, IP_ADDRESS, MAC_ADDRESS."""
from __future__ import annotations

import functools
import ipaddress
import re
from typing import Iterator

import phonenumbers

from ..findings import Finding
from .base import PatternRecognizer, digits_of


class EmailRecognizer(PatternRecognizer):
    """RFC 5322 "dot-atom" addresses with a letter-only top-level domain."""

    name = entity = "EMAIL"
    score = 0.95
    required_chars = "@"
    pattern = re.compile(
        r"(?<![\w.+%'-])[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+'-]{0,62}[A-Za-z0-9_%+-])?"
        r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])")

    def validate(self, match: re.Match) -> float | None:
        local = match.group().split("@", 1)[0]
        return None if ".." in local else self.score


class UrlRecognizer(PatternRecognizer):
    """http(s)/ftp URLs and www. hosts; trailing sentence punctuation is not part of the URL."""

    name = entity = "URL"
    score = 0.75  # a URL contains whatever is in it: it wins over numbers inside it
    required_chars = ":w"
    pattern = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`]+", re.IGNORECASE)

    def find(self, text: str) -> Iterator[Finding]:
        for f in super().find(text):
            end = f.end
            while end > f.start and text[end - 1] in ".,;:!?)]}'\"":
                if text[end - 1] == ")" and text.count("(", f.start, end) >= text.count(")", f.start, end):
                    break  # a balanced parenthesis belongs to the URL (wiki links)
                end -= 1
            if end - f.start > 7:
                yield Finding(f.type, f.start, end, f.score, f.source)


class IpAddressRecognizer(PatternRecognizer):
    """IPv4 dotted quads and IPv6 addresses, validated by the ipaddress module."""

    name = entity = "IP_ADDRESS"
    score = 0.75
    required_chars = ".:"
    context = ("ip", "host", "server", "address", "addr", "client", "source", "src", "dst",
               "gateway", "subnet", "login", "connected", "from")
    negative_context = ("version", "release", "build", "v", "ver", "firmware", "oid", "section")
    pattern = re.compile(
        r"(?<![\w.:])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
        r"(?:/\d{1,2})?(?![\w:]|\.\d)"
        r"|(?<![\w:.])(?=[0-9A-Fa-f:]*[0-9A-Fa-f])(?:[0-9A-Fa-f]{0,4}:){2,7}"
        r"(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:/\d{1,3})?(?![\w:])")

    def validate(self, match: re.Match) -> float | None:
        candidate = match.group().split("/", 1)[0]
        try:
            ip = ipaddress.ip_address(candidate)
        except ValueError:
            return None
        if ip.version == 6:
            if sum(1 for g in candidate.split(":") if g) < 2:
                return None  # "::" or "::1"-style fragments are too weak on their own
            return 0.85
        return self.score


class MacAddressRecognizer(PatternRecognizer):
    """48-bit MAC addresses: 6 hex pairs with one consistent separator, or Cisco dotted form."""

    name = entity = "MAC_ADDRESS"
    score = 0.8
    required_chars = ":-."
    context = ("mac", "ethernet", "wifi", "wi-fi", "device", "hardware", "nic", "bssid")
    pattern = re.compile(
        r"(?<![\w:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"
        r"|(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])")

    def validate(self, match: re.Match) -> float | None:
        s = match.group()
        if "." in s and not re.search(r"[A-Fa-f]", s):
            return 0.3  # all-digit Cisco form looks like a dotted number: context decides
        return self.score


# A phone candidate: international (+/00), bracketed area code, grouped digits or one digit run.
_PHONE = re.compile(
    r"(?<![\w+#/.,-])(?:"
    r"(?:\+|\b00)\d{1,3}[ .-]?(?:\(0?\d{1,4}\)[ .-]?)?\d{1,8}(?:[ .-]\d{1,8}){0,5}"
    r"|(?:1[ .-])?\(\d{2,5}\)[ .-]?\d{2,8}(?:[ .-]\d{2,8}){0,3}"
    r"|(?:1[ .-])?\d{2,5}(?:[ .-]\d{2,8}){1,5}"
    r"|\d{7,15}"
    r")(?:[ ]?(?:ext\.?|x)[ ]?\d{1,5})?(?![\w-]|[.,/]\d)")
_DATE_LIKE = re.compile(r"\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{2,4}")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_NANP = re.compile(r"(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}")


@functools.lru_cache(maxsize=4096)
def _check_number(s: str, region: str | None) -> tuple[bool, bool]:
    """(valid, possible) for ``s`` parsed in ``region``; cached because parsing dominates."""
    try:
        num = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return False, False
    return phonenumbers.is_valid_number(num), phonenumbers.is_possible_number(num)


class PhoneRecognizer(PatternRecognizer):
    """Phone numbers checked with libphonenumber for the policy's default regions.

    International (+/00) numbers need no region. Formatting adds confidence; an unformatted run
    of digits needs a context word (phone, call, fax...) to reach the default threshold.
    """

    name = entity = "PHONE"
    context = ("phone", "telephone", "tel", "mobile", "cell", "cellphone", "call", "called",
               "fax", "contact", "reach", "ph", "whatsapp", "sms", "text", "dial", "pager",
               "landline", "hotline", "helpline", "ring", "mob", "pager", "voicemail")
    negative_context = ("order", "invoice", "ref", "reference", "serial", "tracking", "account",
                        "acct", "isbn", "ticket", "sku", "part", "case", "claim", "transaction",
                        "confirmation", "batch", "lot", "model", "version", "po", "id", "routing",
                        "ssn", "iban", "card", "mrn", "npi", "nhs", "passport", "license")
    required_chars = "0123456789"
    pattern = _PHONE

    def __init__(self, regions: tuple[str, ...] = ("US", "GB")) -> None:
        super().__init__()
        self.regions = tuple(regions)

    def find(self, text: str) -> Iterator[Finding]:
        if not any(c.isdigit() for c in text):
            return
        for m in _PHONE.finditer(text):
            hit = self._best(m.group(), m.start())
            if hit is None:
                continue
            start, end, score = hit
            score = self.adjust(text, start, end, score)
            if score > 0:
                yield Finding(self.entity, start, end, round(min(score, 1.0), 3), self.name)

    def _best(self, candidate: str, offset: int) -> tuple[int, int, float] | None:
        # Try the whole candidate, then drop up to two leading or trailing groups (a run like
        # "room 12 415-555-2671" or "415 555 2671 20" joins a phone with a neighbour).
        parts = [(m.start(), m.end()) for m in re.finditer(r"\S+", candidate)]
        n = len(parts)
        for length in range(n, max(0, n - 3), -1):
            for first in range(0, n - length + 1):
                a, b = parts[first][0], parts[first + length - 1][1]
                score = self._score(candidate[a:b])
                if score is not None:
                    return offset + a, offset + b, score
        return None

    def _score(self, s: str) -> float | None:
        digits = digits_of(s.split("x")[0].split("ext")[0])
        if not 7 <= len(digits) <= 15 or _DATE_LIKE.fullmatch(s) or len(set(digits)) == 1:
            return None
        international = s.startswith(("+", "00"))
        formatted = international or any(c in s for c in " .-()")
        if s.count(".") >= 2 and not _NANP.fullmatch(s) and not international:
            return None  # dotted groups are versions and IP fragments more often than phones
        if _SSN_SHAPE.fullmatch(s):
            return None
        regions = (None,) if international else self.regions
        possible = False
        for region in regions:
            valid, maybe = _check_number("+" + s[2:] if s.startswith("00") else s, region)
            if valid:
                return 0.85 if international else (0.7 if formatted else 0.4)
            possible = possible or maybe
        if possible and international:
            return 0.55
        if possible and _NANP.fullmatch(s):
            return 0.5  # NANP-shaped but not assigned (e.g. 555 numbers used in examples)
        if possible and formatted:
            return 0.3  # the right length for a region but unassigned: needs a context word
        return None
