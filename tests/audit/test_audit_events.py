"""Event types, details rules, canonical JSON and the chain hash."""
import json
import random

import pytest

from appliance.audit import (ASK, EVENT_TYPES, INGEST, LOGIN_FAILURE, EventType, Redacted,
                             ask_details, text_hash)
from appliance.audit.events import EventTypeRegistry, clean_field
from appliance.audit.record import GENESIS_HASH, AuditRecord, canonical_json, chain_hash
from appliance.errors import AuditError
from audit_fixtures import fill


def test_registry_rejects_duplicates_and_unknown_types():
    registry = EventTypeRegistry()
    registry.register(EventType("x.y", "X", (6003, 1)))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(EventType("x.y", "X again", (6003, 1)))
    with pytest.raises(AuditError, match="unknown audit event type 'nope'"):
        registry.get("nope")


def test_every_issue_event_is_registered():
    for name in ["auth.login.success", "auth.login.failure", "auth.logout",
                 "auth.session.revoked", "account.create", "account.role.change",
                 "token.create", "token.revoke", "document.ingest", "document.version",
                 "document.delete", "chat.ask", "policy.change", "adapter.activate",
                 "adapter.deactivate",
                 "audit.export", "audit.verify", "audit.prune", "audit.key.rotate"]:
        assert name in EVENT_TYPES


def test_record_rejects_unknown_type_bad_outcome_and_raw_text(sqlite_env):
    log = sqlite_env.log()
    with pytest.raises(AuditError, match="unknown audit event type"):
        log.record("made.up", actor="a")
    with pytest.raises(AuditError, match="outcome"):
        log.record(INGEST, actor="a", outcome="maybe")
    for details in ({"prompt": "what is the diagnosis of John"}, {"answer": "x"},
                    {"nested": {"text": "raw"}}, {"items": [{"question": "q"}]}):
        with pytest.raises(AuditError, match="raw text"):
            log.record(INGEST, actor="a", details=details)
    with pytest.raises(AuditError, match="not JSON"):
        log.record(INGEST, actor="a", details={"blob": b"bytes"})
    with pytest.raises(AuditError, match="finite"):
        log.record(INGEST, actor="a", details={"x": float("nan")})
    # Redacted text is allowed when a policy asks to keep it.
    seq = log.record(INGEST, actor="a", details={"prompt": Redacted("what about <PERSON>?")})
    assert seq == 1
    assert log.head()[0] == 1  # rejected events left no trace


def test_ask_needs_its_details_and_hashes_text(sqlite_env):
    log = sqlite_env.log()
    with pytest.raises(AuditError, match="needs details"):
        log.record(ASK, actor="bob", details={"collection": "c"})
    details = ask_details(collection="hr", chunks=[{"chunk_id": 4, "document_id": 1,
                                                    "document_version": 3}],
                          model_sha256="a" * 64, policy_sha256="b" * 64,
                          redactions={"PERSON": 2, "EMAIL": 1}, prompt="hello", answer="hi",
                          latency_ms=41.5, adapter_sha256="c" * 64)
    assert details["prompt_sha256"] == text_hash("hello")
    assert "hello" not in json.dumps(details)
    seq = log.record(ASK, actor="bob", target="collection:hr", details=details)
    rec = next(log.events(seq, seq))
    assert rec.details_obj()["chunks"][0]["document_version"] == 3
    assert rec.details_obj()["redactions"] == {"EMAIL": 1, "PERSON": 2}


def test_control_characters_are_escaped_so_lines_cannot_be_forged(sqlite_env):
    assert clean_field("") is None
    assert clean_field("bob\nfake line") == "bob\\u000afake line"
    log = sqlite_env.log()
    seq = log.record(LOGIN_FAILURE, actor="eve\r\n<14>1 forged", outcome="failure")
    assert next(log.events(seq, seq)).actor == "eve\\u000d\\u000a<14>1 forged"


def test_canonical_json_is_sorted_compact_json():
    rng = random.Random(7)
    alphabet = "abcé\"\\/\u2028\x7f😀 <>&"
    for _ in range(200):
        words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
                 for _ in range(5)]
        values = [w if rng.random() > 0.3 else None for w in words]
        details = json.dumps({"k": words[0], "n": rng.randint(0, 10**9)}, sort_keys=True,
                             separators=(",", ":"), ensure_ascii=False)
        fast = canonical_json(rng.randint(1, 10**12), "2024-01-01T00:00:00.000000Z", "t.x",
                              values[0], values[1], values[2], "success", values[3], details)
        data = json.loads(fast)
        assert fast == json.dumps(data, sort_keys=True, separators=(",", ":"),
                                  ensure_ascii=False)


def test_chain_hash_links_rows(sqlite_env):
    log = sqlite_env.log()
    fill(log, 3)
    rows = list(log.events())
    assert rows[0].prev_hash == GENESIS_HASH
    for before, after in zip(rows, rows[1:]):
        assert after.prev_hash == before.hash
        assert after.hash == chain_hash(before.hash, after.canonical())
    assert AuditRecord.from_dict(rows[1].as_dict()) == rows[1]
