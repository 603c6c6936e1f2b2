"""Redactor: detection API, paths, allow lists, counts, secrets, build_redactor, log filter."""
from __future__ import annotations

import logging
import os
import stat

import pytest

from appliance.errors import PolicyError
from appliance.privacy import (Finding, RedactingLogFilter, Redactor, build_redactor,
                               create_secret, load_secret, summarize)
from appliance.settings import load_settings

from .conftest import SECRET, FakeTagger, make_policy


def test_detect_returns_sorted_non_overlapping_findings(redactor):
    text = "Email ana@example.com, SSN 536-22-8126."
    findings = redactor.detect(text)
    assert [(f.type, text[f.start:f.end]) for f in findings] == [
        ("EMAIL", "ana@example.com"), ("US_SSN", "536-22-8126")]
    assert all(isinstance(f, Finding) and 0 < f.score <= 1 for f in findings)


def test_min_score_filters(structured_policy):
    strict = make_policy("entities:\n  PHONE: {action: redact, min_score: 0.95}\n")
    assert Redactor(strict, SECRET).detect("(415) 555-2671 is listed") == []
    assert Redactor(strict, SECRET).detect("call (415) 555-2671") != []


def test_allow_list_is_case_insensitive():
    policy = make_policy("entities:\n  EMAIL: redact\nallow_list: [Help@Example.com]\n")
    out = Redactor(policy, SECRET).redact("help@example.com or ana@example.com", "prompt")
    assert out.text == "help@example.com or [EMAIL]"


def test_rules_apply_only_on_their_paths():
    policy = make_policy("entities:\n  EMAIL: redact\n  DATE: {action: redact, paths: [logs]}\n")
    r = Redactor(policy, SECRET)
    text = "ana@example.com on 03/15/2024"
    assert r.redact(text, "prompt").text == "[EMAIL] on 03/15/2024"
    assert r.redact(text, "logs").text == "[EMAIL] on [DATE]"
    with pytest.raises(ValueError):
        r.redact(text, "elsewhere")


def test_counts_never_carry_values(redactor):
    result = redactor.redact("ana@example.com and bo@example.com", "output")
    assert result.counts == {"EMAIL": 2}
    assert "example" not in repr(result.counts)
    assert summarize(redactor.detect("ana@example.com")) == {"EMAIL": 1}


def test_ner_policy_without_tagger_fails_closed():
    policy = make_policy("entities:\n  PERSON: redact\n")
    with pytest.raises(PolicyError, match="no NER tagger"):
        Redactor(policy, SECRET)
    r = Redactor(policy, SECRET, ner=FakeTagger())
    assert r.redact("John Smith called", "prompt").text == "[PERSON] called"


def test_short_secret_is_refused(structured_policy):
    with pytest.raises(PolicyError):
        Redactor(structured_policy, b"short")


def test_secret_created_with_0600_and_reused(tmp_path):
    path = create_secret(tmp_path / "secrets")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_secret(tmp_path / "secrets")
    assert len(key) == 32 and load_secret(tmp_path / "secrets") == key
    os.chmod(path, 0o644)
    with pytest.raises(PolicyError, match="must not be readable"):
        load_secret(tmp_path / "secrets")


def test_build_redactor_from_settings(tmp_path):
    settings = load_settings(overrides={"data_dir": str(tmp_path), "pii_policy": "pci"}, environ={})
    r = build_redactor(settings, ner_factory=FakeTagger)
    assert r.policy.name == "pci"
    assert (tmp_path / "secrets" / "pii_hmac.key").exists()
    out = r.redact("card 4111 1111 1111 1111 cvv 123, holder John Smith", "output")
    assert out.text == "card 4111 11** **** 1111 cvv , holder PERSON_1"


def test_log_filter_redacts_messages(redactor, caplog):
    logger = logging.getLogger("appliance.test.pii")
    handler = logging.Handler()
    records = []
    handler.emit = records.append
    handler.addFilter(RedactingLogFilter(redactor))
    logger.addHandler(handler)
    try:
        logger.warning("login failed for %s from %s", "ana@example.com", "203.0.113.45")
    finally:
        logger.removeHandler(handler)
    assert records[0].getMessage() == "login failed for [EMAIL] from [IP_ADDRESS]"
    assert records[0].pii_counts == {"EMAIL": 1, "IP_ADDRESS": 1}


def test_pool_shares_one_tagger_across_collection_policies(tmp_path):
    from appliance.privacy import RedactorPool
    made = []

    def factory():
        made.append(1)
        return FakeTagger()
    settings = load_settings(overrides={"data_dir": str(tmp_path)}, environ={})
    pool = RedactorPool(settings, ner_factory=factory)
    pool.preload(["hipaa", "gdpr"])
    assert pool.get("hipaa") is pool.get("hipaa")
    assert pool.get().policy.name == "default"
    assert len(made) == 1
    with pytest.raises(PolicyError):
        pool.get("nosuch")


def test_policy_setting_may_be_a_path_even_without_a_policies_dir(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("entities:\n  EMAIL: redact\n")
    settings = load_settings(overrides={"data_dir": str(tmp_path), "pii_policy": str(path),
                                        "policies_dir": str(tmp_path / "missing")}, environ={})
    assert build_redactor(settings).redact("a@example.com", "logs").text == "[EMAIL]"
    with pytest.raises(PolicyError, match="policies directory not found"):
        build_redactor(settings, "hipaa")
