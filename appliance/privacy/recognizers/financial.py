"""Financial identifiers: CREDIT_CARD, IBAN, ABA_ROUTING, US_BANK_NUMBER, CRYPTO."""
from __future__ import annotations

import re
from typing import Iterator

from ..checksums import aba_ok, base58check_ok, bech32_ok, eip55_ok, luhn_ok, mod97_ok
from ..findings import Finding
from .base import PatternRecognizer, digits_of
from .tables import IBAN_LENGTHS, card_issuer

_NUMBER_NEGATIVES = ("order", "invoice", "tracking", "shipment", "sku", "isbn", "serial",
                     "ticket", "case", "claim", "confirmation", "reference", "ref", "part",
                     "batch", "lot", "phone", "tel", "fax")


class CreditCardRecognizer(PatternRecognizer):
    """13-19 digit card numbers (one consistent separator) passing Luhn and an issuer range."""

    name = entity = "CREDIT_CARD"
    score = 0.85
    required_chars = "0123456789"
    context = ("card", "credit", "debit", "visa", "mastercard", "amex", "american express",
               "discover", "jcb", "diners", "maestro", "unionpay", "cc", "pan", "payment",
               "charge", "charged", "paid", "refund", "refunded", "expires", "exp", "cvv")
    negative_context = _NUMBER_NEGATIVES
    pattern = re.compile(
        r"(?<![\d-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"
        r"|\d{4}([ -])\d{6}\2\d{4,5}"
        r"|\d{4}([ -])\d{4}\3\d{4}\3\d"
        r"|\d{6}([ -])\d{10,13}"
        r"|\d{12,19})(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        digits = digits_of(match.group())
        if len(set(digits)) < 2 or not luhn_ok(digits) or card_issuer(digits) is None:
            return None
        return self.score


class IbanRecognizer(PatternRecognizer):
    """IBANs: known country code, that country's exact length, and the mod-97 check."""

    name = entity = "IBAN"
    score = 0.95
    context = ("iban", "bank", "account", "transfer", "wire", "sepa", "bic", "swift")
    pattern = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")

    def find(self, text: str) -> Iterator[Finding]:
        pos = 0
        while (m := self.pattern.search(text, pos)) is not None:
            # The regex runs on greedily (it cannot know the country length); resume the search
            # right after a valid IBAN so a second one in the same run is still found.
            pos = m.start() + 1
            s = m.group()
            length = IBAN_LENGTHS.get(s[:2])
            if length is None:
                continue
            end = _nth_alnum_end(s, length)
            if end is None or (end < len(s) and s[end] not in " -"):
                continue  # too short, or the country length ends inside a group
            if not mod97_ok(re.sub(r"[ -]", "", s[:end]).upper()):
                continue
            start = m.start()
            pos = start + end
            score = self.adjust(text, start, start + end, self.score)
            yield Finding(self.entity, start, start + end, round(min(score, 1.0), 3), self.name)


def _nth_alnum_end(s: str, n: int) -> int | None:
    count = 0
    for i, ch in enumerate(s):
        if ch.isalnum():
            count += 1
            if count == n:
                return i + 1
    return None


class AbaRoutingRecognizer(PatternRecognizer):
    """US ABA routing transit numbers: 9 digits, Federal Reserve prefix, 3-7-1 checksum."""

    name = entity = "ABA_ROUTING"
    score = 0.3
    context_boost = 0.45
    required_chars = "0123456789"
    context = ("routing", "aba", "rtn", "transit", "routing number", "wire", "ach")
    negative_context = _NUMBER_NEGATIVES
    pattern = re.compile(r"(?<![\d-])(?:\d{9}|\d{4}-\d{4}-\d)(?![\d]|-\d)")

    def validate(self, match: re.Match) -> float | None:
        digits = digits_of(match.group())
        prefix = int(digits[:2])
        if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
            return None
        return self.score if aba_ok(digits) and len(set(digits)) > 2 else None


class UsBankNumberRecognizer(PatternRecognizer):
    """US bank account numbers (8-17 digits). Only with a context word such as "account"."""

    name = entity = "US_BANK_NUMBER"
    score = 0.15
    context_boost = 0.5
    required_chars = "0123456789"
    context = ("account", "acct", "a/c", "bank", "checking", "savings", "deposit", "account no",
               "account number", "beneficiary")
    negative_context = _NUMBER_NEGATIVES + ("card", "ssn", "iban")
    pattern = re.compile(r"(?<![\w/=.?&#-])\d{8,17}(?![\w]|-\d)")


class CryptoRecognizer(PatternRecognizer):
    """Cryptocurrency addresses with their checksums: Base58Check, bech32/bech32m, EIP-55."""

    name = "CRYPTO"
    entity = "CRYPTO"
    score = 0.9
    context = ("bitcoin", "btc", "wallet", "ethereum", "eth", "crypto", "litecoin", "address")
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(?:[13LM][1-9A-HJ-NP-Za-km-z]{25,34}"
        r"|(?:bc|ltc|tb)1[02-9ac-hj-np-z]{8,87}|(?:BC|LTC|TB)1[02-9AC-HJ-NP-Z]{8,87}"
        r"|0x[0-9a-fA-F]{40})(?![A-Za-z0-9])")

    def validate(self, match: re.Match) -> float | None:
        s = match.group()
        if s.startswith("0x"):
            body = s[2:]
            if body.lower() == body or body.upper() == body:
                return 0.4  # no checksum in single-case form: a context word must vouch for it
            return self.score if eip55_ok(s) else None
        if s[:3].lower() in ("bc1", "tb1") or s[:4].lower() == "ltc1":
            return self.score if bech32_ok(s) else None
        return self.score if base58check_ok(s) else None
