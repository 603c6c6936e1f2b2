"""Operators rewrite a detected value: redact, mask, hash, pseudonym, drop, allow.

Each operator declares its parameters (name -> (type, default, check)) so a policy is validated
before any text is touched. OPERATORS is the explicit registry; it rejects duplicate names.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping

from .pseudonyms import PseudonymBook

_NUMERIC = {"CREDIT_CARD", "US_SSN", "US_ITIN", "US_BANK_NUMBER", "ABA_ROUTING", "US_NPI",
            "UK_NHS", "IN_AADHAAR", "CA_SIN", "PHONE"}


def normalize(entity_type: str, value: str) -> str:
    """The comparable form of a value: formatting variants of one identifier map together."""
    if entity_type in _NUMERIC:
        return re.sub(r"\D", "", value)
    if entity_type in ("IBAN", "MAC_ADDRESS", "UK_NINO"):
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    return " ".join(value.split()).casefold()


@dataclass
class OperatorContext:
    """What an operator may need besides the value: the install secret and the pseudonym scope."""

    secret: bytes
    pseudonyms: PseudonymBook
    scope: str


Check = Callable[[Any], str | None]


def _int_between(lo: int, hi: int) -> Check:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"must be an integer from {lo} to {hi}"
    return check


def _template(*fields: str) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, str):
            return "must be a string"
        if re.search(r"\d{4,}", "".join(re.findall(r"\{[^}]*\}", v))):
            return "may not pad a placeholder to thousands of characters"
        try:
            v.format(**{f: "x" for f in fields})
        except (KeyError, IndexError, ValueError, AttributeError, MemoryError):
            return f"may only use the placeholders {', '.join('{' + f + '}' for f in fields)}"
        return None
    return check


def _one_char(v: Any) -> str | None:
    return None if isinstance(v, str) and len(v) == 1 else "must be a single character"


class Operator:
    """Base: ``params`` maps each accepted parameter to (default, check)."""

    name: ClassVar[str] = ""
    params: ClassVar[Mapping[str, tuple[Any, Check]]] = {}

    def apply(self, value: str, entity_type: str, params: Mapping[str, Any],
              ctx: OperatorContext) -> str:
        raise NotImplementedError


class Redact(Operator):
    """Replace with a type tag: ``[EMAIL]``."""

    name = "redact"
    params = {"tag": ("[{type}]", _template("type"))}

    def apply(self, value, entity_type, params, ctx):
        return params["tag"].format(type=entity_type)


class Mask(Operator):
    """Replace letters and digits with ``char``, keeping separators and the last/first few."""

    name = "mask"
    params = {"char": ("*", _one_char), "keep_last": (4, _int_between(0, 64)),
              "keep_first": (0, _int_between(0, 64))}

    def apply(self, value, entity_type, params, ctx):
        positions = [i for i, c in enumerate(value) if c.isalnum()]
        keep = set(positions[:params["keep_first"]])
        keep |= set(positions[len(positions) - params["keep_last"]:] if params["keep_last"] else ())
        if len(keep) >= len(positions):
            keep = set()  # never reveal a whole short value
        return "".join(c if (not c.isalnum() or i in keep) else params["char"]
                       for i, c in enumerate(value))


class Hash(Operator):
    """Keyed hash: HMAC-SHA256 with the per-install secret over the normalised value."""

    name = "hash"
    params = {"length": (16, _int_between(8, 64)), "tag": ("[{type}:{hash}]", _template("type", "hash"))}

    def apply(self, value, entity_type, params, ctx):
        message = f"{entity_type}\x00{normalize(entity_type, value)}".encode("utf-8")
        digest = hmac.new(ctx.secret, message, hashlib.sha256).hexdigest()[:params["length"]]
        return params["tag"].format(type=entity_type, hash=digest)


class Pseudonym(Operator):
    """Consistent stand-in per scope: the first person is PERSON_1 wherever they reappear."""

    name = "pseudonym"
    params = {"format": ("{type}_{n}", _template("type", "n"))}

    def apply(self, value, entity_type, params, ctx):
        n = ctx.pseudonyms.number(ctx.scope, entity_type, normalize(entity_type, value))
        return params["format"].format(type=entity_type, n=n)


class Drop(Operator):
    """Remove the value entirely."""

    name = "drop"

    def apply(self, value, entity_type, params, ctx):
        return ""


class Allow(Operator):
    """Keep the value (it is still detected, so it still wins over overlapping findings)."""

    name = "allow"

    def apply(self, value, entity_type, params, ctx):
        return value


class OperatorRegistry(dict):
    """Operators by name; adding a second operator under one name is an error."""

    def add(self, operator: Operator) -> None:
        if operator.name in self:
            raise ValueError(f"operator {operator.name!r} is already registered")
        self[operator.name] = operator


OPERATORS = OperatorRegistry()
for _op in (Redact(), Mask(), Hash(), Pseudonym(), Drop(), Allow()):
    OPERATORS.add(_op)
