"""Keys and signed checkpoints: file modes, the C2SP note format, cadence, sinks, rotation."""
import base64
import hashlib
import os
import stat

import pytest

from appliance.audit import AuditLog, Checkpoint, ensure_keys
from appliance.audit.keys import KEY_FILE, KEYRING_FILE, load_keyring
from appliance.audit.notes import Signer, Verifier, open_note, sign_note
from appliance.audit.sinks import LATEST_FILE, read_checkpoint_file, syslog_line
from appliance.errors import AuditError
from audit_fixtures import Env, fill


def test_key_is_private_and_created_once(sqlite_env):
    secrets = sqlite_env.settings.secrets_dir
    mode = stat.S_IMODE(os.stat(secrets / KEY_FILE).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(secrets).st_mode) & 0o077 == 0
    assert ensure_keys(sqlite_env.settings) == sqlite_env.key_id  # idempotent
    assert "PRIVATE" not in (secrets / KEYRING_FILE).read_text()
    assert list(load_keyring(sqlite_env.settings)) == [sqlite_env.key_id]


def test_log_without_keys_is_a_clear_error(tmp_path):
    from appliance.store.db import Store
    from audit_fixtures import make_settings

    (tmp_path / "d").mkdir()
    settings = make_settings(tmp_path / "d")
    with pytest.raises(AuditError, match="appliance init"):
        AuditLog(Store(settings.db_url), settings)


def test_signed_note_format_matches_c2sp():
    signer = Signer.generate("example.com/log")
    note = sign_note("hello\n", [signer])
    text, sig_line = note.split("\n\n")
    assert text == "hello"
    assert sig_line.startswith("\u2014 example.com/log ") and sig_line.endswith("\n")
    blob = base64.b64decode(sig_line.split(" ")[2])
    key = b"\x01" + signer.verifier.public
    key_hash = hashlib.sha256(b"example.com/log\n" + key).digest()[:4]
    assert blob[:4] == key_hash and len(blob) == 68
    vkey = signer.verifier.vkey
    assert vkey == f"example.com/log+{key_hash.hex()}+{base64.b64encode(key).decode()}"
    assert Verifier.parse(vkey) == signer.verifier
    assert open_note(note, {signer.key_id: signer.verifier}) == ("hello\n", [signer.key_id])
    with pytest.raises(AuditError, match="bad signature"):
        open_note(note.replace("hello", "hellO"), {signer.key_id: signer.verifier})
    with pytest.raises(AuditError, match="no signature by a known key"):
        open_note(note, {})
    assert Signer.parse(signer.skey()).key_id == signer.key_id


def test_checkpoint_every_n_events_and_at_close(sqlite_env):
    log = sqlite_env.log(audit_checkpoint_every=5)
    fill(log, 12)
    with sqlite_env.store.session() as sess:
        from sqlalchemy import text
        sizes = [r[0] for r in sess.execute(text("SELECT size FROM audit_checkpoints"))]
    assert sizes == [5, 10]
    log.close()
    cp = Checkpoint.open(log.checkpoint().note, log.keyring())
    assert cp.size == 12 and cp.head_hash == log.head()[1] and cp.origin == log.origin
    lines = cp.note.split("\n")
    assert lines[1] == "12" and base64.b64decode(lines[2]).hex() == cp.head_hash
    assert lines[3].startswith("time ")


def test_checkpoint_after_t_seconds(sqlite_env):
    log = sqlite_env.log(audit_checkpoint_seconds=0)
    fill(log, 3)
    with sqlite_env.store.session() as sess:
        from sqlalchemy import text
        assert sess.execute(text("SELECT COUNT(*) FROM audit_checkpoints")).scalar() == 3


def test_directory_and_syslog_sinks(tmp_path, monkeypatch):
    sink = tmp_path / "mnt"
    sink.mkdir()
    env = Env(tmp_path / "data", audit_external_sink=str(sink))
    log = env.log()
    fill(log, 4)
    cp = log.checkpoint()
    assert (sink / LATEST_FILE).read_text() == cp.note
    old = Checkpoint(log.origin, 2, log.head()[1], "t").signed([log.signer()])
    log.sink.write(old)  # a smaller checkpoint never replaces a larger one
    assert (sink / LATEST_FILE).read_text() == cp.note
    sent = []
    import syslog
    monkeypatch.setattr(syslog, "syslog", lambda prio, msg: sent.append(msg))
    slog = env.log(audit_external_sink="syslog")
    fill(slog, 1)
    cp2 = slog.checkpoint()
    assert sent == [syslog_line(cp2)] and "\n" not in sent[0]
    saved = tmp_path / "syslog.txt"
    saved.write_text("noise\n" + "\n".join(sent) + "\n")
    assert read_checkpoint_file(str(saved)) == cp2.note
    assert slog.verify(str(saved), record=False).ok
    env.close()


def test_key_rotation_is_logged_and_cosigned(sqlite_env):
    log = sqlite_env.log()
    fill(log, 3)
    other = sqlite_env.log()  # another worker holding the old key in memory
    old_id = log.signer().key_id
    new_id = log.rotate_key(actor="admin")
    assert new_id != old_id
    rotation = next(e for e in log.events() if e.type == "audit.key.rotate")
    assert rotation.details_obj()["new_key"] == new_id
    keyring = load_keyring(sqlite_env.settings)
    assert set(keyring) == {old_id, new_id}
    from sqlalchemy import text
    with sqlite_env.store.session() as sess:
        note = sess.execute(text("SELECT note FROM audit_checkpoints ORDER BY size DESC")).first()[0]
    assert set(open_note(note, keyring)[1]) == {old_id, new_id}
    assert other.signer().key_id == new_id  # picks up the rotation from the key file
    assert stat.S_IMODE(os.stat(sqlite_env.settings.secrets_dir / KEY_FILE).st_mode) == 0o600
    assert log.verify(record=False).ok


def test_a_key_others_can_read_is_refused(sqlite_env):
    path = sqlite_env.settings.secrets_dir / KEY_FILE
    path.chmod(0o644)
    with pytest.raises(AuditError, match="readable by others.*chmod 600"):
        sqlite_env.log()
