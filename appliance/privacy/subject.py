"""How a data subject's identifier can appear in stored text: as written, and as the keyed
hash tags a policy's `hash` operator writes for it. (A `pseudonym` holds no link to the person:
its number restarts in every document or conversation and the mapping is never stored, so
there is nothing to find or erase there.)"""
from __future__ import annotations

import hashlib
import hmac
from typing import Iterable

from .operators import OPERATORS, OperatorContext
from .policy import Policy
from .pseudonyms import PseudonymBook


def stored_forms(subject: str, policies: Iterable[Policy], secret: bytes) -> list[str]:
    """The strings to look for: the subject itself and each hash tag a policy would write."""
    forms = {subject.strip()}
    ctx = OperatorContext(secret, PseudonymBook(max_scopes=1), "")
    for policy in policies:
        for rule in policy.entities.values():
            if rule.action == "hash":
                forms.add(OPERATORS["hash"].apply(subject.strip(), rule.type, rule.params, ctx))
    return sorted(f for f in forms if f)


def subject_digest(kind: str, value: str, secret: bytes) -> str:
    """A keyed digest naming an erasure's target in reports and the audit log without the
    target's text (the same subject always gives the same digest on this install)."""
    message = f"erasure\x00{kind}\x00{value.strip().casefold()}".encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
