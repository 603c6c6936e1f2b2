"""Verification of the database chain: each tamper class is reported with its sequence number."""
import shutil

import pytest
from sqlalchemy import delete, text, update

from appliance.audit import Checkpoint
from appliance.audit.notes import Signer
from appliance.audit.sinks import LATEST_FILE
from appliance.errors import AuditError
from appliance.store.audit_tables import AuditEventTable
from audit_fixtures import fill


def _verify(log, **kw):
    return log.verify(record=False, **kw)


def test_clean_log_verifies(env):
    log = env.log()
    fill(log, 25)
    result = _verify(log)
    assert result.ok and result.count == 25 and result.message() == "OK 25 events"
    assert not result.warnings
    assert log.verify().ok  # recorded run ...
    assert next(log.events(26, 26)).type == "audit.verify"  # ... is itself an event


def test_application_cannot_update_or_delete(env):
    log = env.log()
    fill(log, 3)
    log.checkpoint()
    for stmt in (update(AuditEventTable).where(AuditEventTable.seq == 2).values(actor="x"),
                 delete(AuditEventTable).where(AuditEventTable.seq == 3)):
        with pytest.raises(Exception, match="append-only|retention pruning"):
            with env.store.session() as sess:
                sess.execute(stmt)
    with pytest.raises(Exception, match="does not extend the chain"):
        with env.store.session() as sess:  # a row that skips a sequence number
            sess.execute(text("INSERT INTO audit_events (seq, ts, type, outcome, details, "
                              "prev_hash, hash) VALUES (9, 't', 'x', 'success', '{}', 'p', 'h')"))
    with pytest.raises(Exception, match="append-only"):
        with env.store.session() as sess:
            sess.execute(text("DELETE FROM audit_checkpoints"))
    assert _verify(log).ok


def test_modified_row(env):
    log = env.log()
    fill(log, 10)
    env.tamper("UPDATE audit_events SET actor = 'mallory' WHERE seq = 5")
    result = _verify(log)
    assert (result.ok, result.first_bad_seq, result.count) == (False, 5, 4)
    assert result.reason.startswith("modified")
    assert any("trigger" in w for w in result.warnings)


def test_deleted_row(env):
    log = env.log()
    fill(log, 10)
    env.tamper("DELETE FROM audit_events WHERE seq = 5")
    result = _verify(log)
    assert (result.first_bad_seq, result.reason) == (5, "deleted: event 5 is missing")


def test_deleted_first_rows_without_anchor(env):
    log = env.log()
    fill(log, 10)
    env.tamper("DELETE FROM audit_events WHERE seq <= 3")
    result = _verify(log)
    assert result.first_bad_seq == 1 and result.reason.startswith("deleted: events 1..3")


def test_reordered_rows(env):
    log = env.log()
    fill(log, 10)
    env.tamper("UPDATE audit_events SET seq = -5 WHERE seq = 5",
               "UPDATE audit_events SET seq = 5 WHERE seq = 6",
               "UPDATE audit_events SET seq = 6 WHERE seq = -5")
    result = _verify(log)
    assert result.first_bad_seq == 5 and result.reason.startswith("reordered")


def test_truncated_tail(env):
    log = env.log()
    fill(log, 10)
    log.checkpoint()
    env.tamper("DELETE FROM audit_events WHERE seq > 7")
    result = _verify(log)
    assert result.first_bad_seq == 8 and result.reason.startswith("truncated tail")


def test_chain_rewritten_with_recomputed_hashes_is_caught_by_checkpoint(env):
    log = env.log()
    fill(log, 10)
    log.checkpoint()
    rows = list(log.events())
    # Rebuild the chain from event 3 on with a changed actor, as a clever attacker would.
    statements, prev = [], rows[1].hash
    for rec in rows[2:]:
        forged = rec.__class__(**{**rec.__dict__, "actor": "mallory" if rec.seq == 3
                                  else rec.actor, "prev_hash": prev, "hash": ""})
        digest = forged.computed_hash()
        statements.append(f"UPDATE audit_events SET actor = '{forged.actor}', "
                          f"prev_hash = '{prev}', hash = 'x{rec.seq}' WHERE seq = {rec.seq}")
        statements.append(f"UPDATE audit_events SET hash = '{digest}' WHERE seq = {rec.seq}")
        prev = digest
    env.tamper(*statements)
    result = _verify(log)
    assert not result.ok and result.first_bad_seq <= 3
    assert "rewritten" in result.reason


def test_forged_or_edited_checkpoint(env):
    log = env.log()
    fill(log, 6)
    log.checkpoint()
    env.tamper("UPDATE audit_checkpoints SET note = REPLACE(note, 'time 2', 'time 1')")
    result = _verify(log)
    assert not result.ok and result.first_bad_seq == 6
    assert result.reason.startswith("forged or edited checkpoint")


def test_checkpoint_signed_by_unknown_key(env):
    log = env.log()
    fill(log, 4)
    head = log.head()
    forged = Checkpoint(log.origin, 4, head[1], "2030-01-01T00:00:00.000000Z").signed(
        [Signer.generate("mallory")])
    env.tamper(f"INSERT INTO audit_checkpoints (size, head_hash, ts, note) VALUES "
               f"(4, '{head[1]}', 't', '{forged.note}')")
    result = _verify(log)
    assert "no signature by a known key" in result.reason


def test_rollback_detected_with_external_checkpoint_file(env, tmp_path):
    log = env.log()
    fill(log, 10)
    cp = log.checkpoint()
    kept = tmp_path / "offsite.checkpoint"
    kept.write_text(cp.note, encoding="utf-8")
    # Someone rolls the database back to 6 events, checkpoints included.
    env.tamper("DELETE FROM audit_events WHERE seq > 6", "DELETE FROM audit_checkpoints")
    assert _verify(log).ok  # the database alone cannot tell ...
    result = _verify(log, checkpoint_file=str(kept))  # ... the external copy can
    assert result.first_bad_seq == 7 and result.reason.startswith("rollback")


def test_edited_external_checkpoint_is_forged(env, tmp_path):
    log = env.log()
    fill(log, 3)
    kept = tmp_path / "offsite.checkpoint"
    kept.write_text(log.checkpoint().note.replace("\n3\n", "\n2\n"), encoding="utf-8")
    result = _verify(log, checkpoint_file=str(kept))
    assert not result.ok and result.reason.startswith("forged or edited checkpoint")


def test_rollback_of_sqlite_file_caught_by_directory_sink(tmp_path):
    from audit_fixtures import Env

    sink = tmp_path / "other-mount"
    sink.mkdir()
    env = Env(tmp_path / "data", audit_external_sink=str(sink))
    log = env.log()
    fill(log, 5)
    log.close()
    db = env.data_dir / "appliance.db"
    env.store.dispose()
    shutil.copy(db, tmp_path / "backup.db")
    fill(log, 5, start=5)
    log.close()
    assert (sink / LATEST_FILE).read_text().split("\n")[1] == "10"
    env.store.dispose()
    for suffix in ("-wal", "-shm"):
        (db.parent / (db.name + suffix)).unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", db)  # restore the old backup
    result = log.verify(record=False)
    assert result.first_bad_seq == 6 and result.reason.startswith("rollback")
    env.close()


def test_missing_sink_directory_is_a_clear_error(tmp_path):
    from audit_fixtures import Env

    env = Env(tmp_path / "data")
    with pytest.raises(AuditError, match="does not exist"):
        env.log(audit_external_sink=str(tmp_path / "not-mounted"))
    env.close()
