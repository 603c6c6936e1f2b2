"""Retention: pruning behind a signed anchor, legal holds, and no other way to delete."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from appliance.audit.retention import active_holds, place_hold, prune, release_hold
from appliance.errors import AuditError
from audit_fixtures import fill

LATER = datetime.now(timezone.utc) + timedelta(days=2191)  # beyond the default 6 years


def test_default_retention_is_six_years(sqlite_env):
    assert sqlite_env.settings.audit_retention_days == 2190
    log = sqlite_env.log()
    fill(log, 5)
    assert prune(log, actor="ops").up_to_seq is None  # nothing is old enough today


def test_prune_leaves_anchor_and_verification_continues(env):
    log = env.log()
    fill(log, 12)
    dry = prune(log, actor="ops", now=LATER, dry_run=True)
    assert (dry.up_to_seq, dry.removed) == (12, 12) and "would remove" in dry.message()
    result = prune(log, actor="ops", now=LATER)
    assert (result.up_to_seq, result.removed) == (12, 12)
    events = list(log.events())
    assert [e.type for e in events] == ["audit.prune"] and events[0].seq == 13
    assert events[0].details_obj()["up_to_hash"] == result.anchor.head_hash
    fill(log, 3)
    check = log.verify(record=False)
    assert check.ok and check.count == 4
    # A second prune builds on the first anchor.
    prune(log, actor="ops", now=LATER + timedelta(days=1))
    assert log.verify(record=False).ok


def test_removing_the_anchor_or_forging_it_is_detected(env):
    log = env.log()
    fill(log, 6)
    prune(log, actor="ops", now=LATER)
    env.tamper("UPDATE audit_anchors SET note = REPLACE(note, 'time 2', 'time 1')")
    result = log.verify(record=False)
    assert result.reason.startswith("forged or edited pruning anchor")
    env.tamper("DELETE FROM audit_anchors")
    result = log.verify(record=False)
    assert result.first_bad_seq == 1 and result.reason.startswith("deleted: events 1..6")


def test_application_cannot_delete_even_with_a_guard_row(env):
    log = env.log()
    fill(log, 4)
    log.checkpoint()
    with pytest.raises(Exception, match="needs a signed anchor"):
        with env.store.session() as sess:  # the guard alone is refused without an anchor
            sess.execute(text("INSERT INTO audit_prune_guard (up_to_seq) VALUES (4)"))
    with pytest.raises(Exception, match="retention pruning"):
        with env.store.session() as sess:
            sess.execute(text("DELETE FROM audit_events WHERE seq <= 2"))
    assert log.verify(record=False).count == 4


def test_legal_hold_blocks_pruning_until_released(env):
    log = env.log()
    fill(log, 5)
    place_hold(log, "case-42", actor="counsel", reason="litigation 42")
    with pytest.raises(AuditError, match="already active"):
        place_hold(log, "case-42", actor="counsel")
    assert [h.name for h in active_holds(log)] == ["case-42"]
    held = prune(log, actor="ops", now=LATER)
    assert held.up_to_seq is None and held.held_by == ["case-42"]
    assert "legal hold: case-42" in held.message()
    release_hold(log, "case-42", actor="counsel")
    with pytest.raises(AuditError, match="no active legal hold"):
        release_hold(log, "case-42", actor="counsel")
    assert prune(log, actor="ops", now=LATER).up_to_seq == 7
    assert log.verify(record=False).ok


def test_hold_since_keeps_newer_events_only(sqlite_env):
    log = sqlite_env.log()
    fill(log, 4)
    since = next(log.events(3, 3)).ts
    place_hold(log, "audit-2024", actor="counsel", since=since)
    result = prune(log, actor="ops", now=LATER)
    assert result.up_to_seq == 2
    assert [e.seq for e in log.events()][:2] == [3, 4]
    assert log.verify(record=False).ok


def test_prune_refuses_a_tampered_log(sqlite_env):
    log = sqlite_env.log()
    fill(log, 4)
    sqlite_env.tamper("UPDATE audit_events SET actor = 'x' WHERE seq = 2")
    with pytest.raises(AuditError, match="refusing to prune.*seq 2"):
        prune(log, actor="ops", now=LATER)
