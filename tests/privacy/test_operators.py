"""Operators: redact, mask, keyed hash, pseudonyms, drop, allow."""
from __future__ import annotations

import hashlib
import hmac

from appliance.privacy import Redactor

from .conftest import SECRET, make_policy

TEXT = "Mail ana@example.com or call (415) 555-2671; card 4111 1111 1111 1111."


def _redact(rules: str, text: str = TEXT, secret: bytes = SECRET, **kw):
    policy = make_policy("entities:\n" + rules)
    return Redactor(policy, secret).redact(text, "prompt", **kw)


def test_redact_replaces_with_type_tag():
    result = _redact("  EMAIL: redact\n  PHONE: redact\n")
    assert result.text == "Mail [EMAIL] or call [PHONE]; card 4111 1111 1111 1111."
    assert result.counts == {"EMAIL": 1, "PHONE": 1}


def test_mask_keeps_separators_and_last_four():
    result = _redact("  CREDIT_CARD: {action: mask, keep_last: 4}\n")
    assert "card **** **** **** 1111." in result.text


def test_mask_pci_style_first_six_last_four():
    result = _redact("  CREDIT_CARD: {action: mask, keep_first: 6, keep_last: 4, char: '#'}\n")
    assert "card 4111 11## #### 1111." in result.text


def test_hash_is_hmac_sha256_keyed_by_install_secret():
    result = _redact("  EMAIL: {action: hash, length: 16}\n")
    expected = hmac.new(SECRET, b"EMAIL\x00ana@example.com", hashlib.sha256).hexdigest()[:16]
    assert f"[EMAIL:{expected}]" in result.text
    unsalted = hashlib.sha256(b"ana@example.com").hexdigest()[:16]
    assert unsalted not in result.text
    other = _redact("  EMAIL: {action: hash, length: 16}\n", secret=b"another-secret-0123456789")
    assert other.text != result.text


def test_hash_normalises_formatting_variants():
    a = _redact("  PHONE: hash\n", "call (415) 555-2671").text
    b = _redact("  PHONE: hash\n", "call 415-555-2671").text
    assert a == b


def test_pseudonyms_are_consistent_within_a_scope():
    policy = make_policy("entities:\n  EMAIL: pseudonym\n")
    r = Redactor(policy, SECRET)
    text = "a@example.com wrote to b@example.com; a@example.com again"
    assert r.redact(text, "output", scope="conv-1").text == "EMAIL_1 wrote to EMAIL_2; EMAIL_1 again"
    # Same scope later: the numbering carries over. Another scope starts afresh.
    assert r.redact("b@example.com", "output", scope="conv-1").text == "EMAIL_2"
    assert r.redact("b@example.com", "output", scope="conv-2").text == "EMAIL_1"
    assert r.redact("b@example.com", "output").text == "EMAIL_1"


def test_drop_and_allow():
    result = _redact("  EMAIL: drop\n  PHONE: allow\n")
    assert result.text == "Mail  or call (415) 555-2671; card 4111 1111 1111 1111."
    assert result.counts == {"EMAIL": 1}


def test_operator_registry_rejects_duplicates():
    import pytest
    from appliance.privacy.operators import OPERATORS, Redact
    with pytest.raises(ValueError):
        OPERATORS.add(Redact())
