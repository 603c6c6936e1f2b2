"""`appliance audit ...` as an operator and an auditor use it."""
import pytest

from appliance.cli import main
from audit_fixtures import fill


@pytest.fixture
def run(sqlite_env, capsys):
    def run(*argv):
        code = main(["--data-dir", str(sqlite_env.data_dir), "audit", *argv])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_verify_ok_then_tampered(sqlite_env, run):
    fill(sqlite_env.log(), 8)
    assert run("verify") == (0, "OK 8 events\n", "")
    sqlite_env.tamper("UPDATE audit_events SET target = 'document:999' WHERE seq = 5")
    code, out, err = run("verify")
    assert code == 1
    assert out.startswith("FAILED at seq 5: modified: event 5's content does not match")
    assert "warning: immutability trigger" in err


def test_verify_against_external_checkpoint(sqlite_env, run, tmp_path):
    log = sqlite_env.log()
    fill(log, 6)
    code, note, _ = run("checkpoint")
    assert code == 0 and note.split("\n")[1] == "6"
    (tmp_path / "cp.txt").write_text(note)
    sqlite_env.tamper("DELETE FROM audit_events WHERE seq > 3", "DELETE FROM audit_checkpoints")
    code, out, _ = run("verify", "--checkpoint", str(tmp_path / "cp.txt"))
    assert code == 1 and out.startswith("FAILED at seq 4: rollback")
    (tmp_path / "cp.txt").write_text(note.replace("\n6\n", "\n60\n"))
    code, out, _ = run("verify", "--checkpoint", str(tmp_path / "cp.txt"))
    assert code == 1 and "forged or edited checkpoint" in out


def test_export_and_verify_export_with_only_the_public_key(sqlite_env, run, tmp_path):
    fill(sqlite_env.log(), 5)
    assert run("pubkey", "--out", str(tmp_path / "pub.txt"))[0] == 0
    for fmt in ("jsonl", "csv", "ocsf", "cef", "syslog"):
        code, out, _ = run("export", "--format", fmt, "--out", str(tmp_path / fmt))
        assert code == 0 and f"as {fmt} to" in out
        code, out, _ = run("verify-export", str(tmp_path / fmt), "--pubkey",
                           str(tmp_path / "pub.txt"))
        assert code == 0 and out.startswith("OK ")
    events = tmp_path / "jsonl" / "events.jsonl"
    lines = events.read_text().splitlines(keepends=True)
    events.write_text("".join(lines[:2] + lines[3:]))
    code, out, _ = run("verify-export", str(tmp_path / "jsonl"), "--pubkey",
                       str(tmp_path / "pub.txt"))
    assert code == 1
    assert "deleted (events.jsonl, seq 3): event 3 is missing" in out
    assert out.strip().endswith("FAILED at seq 3: deleted (events.jsonl, seq 3): event 3 is missing")


def test_user_errors_are_clear(sqlite_env, run, tmp_path):
    fill(sqlite_env.log(), 1)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, _, err = run("export", "--format", "csv", "--out", str(tmp_path / "full"))
    assert code == 2 and err.startswith("error: export directory") and "Traceback" not in err
    code, _, err = run("verify-export", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err
    code, _, err = run("export", "--format", "csv", "--since", "soon", "--out",
                       str(tmp_path / "new"))
    assert code == 2 and "not an ISO 8601" in err
    code, _, err = run("hold", "release", "nothing")
    assert code == 2 and "no active legal hold" in err


def test_hold_prune_and_rotate(sqlite_env, run):
    fill(sqlite_env.log(), 2)
    assert run("hold", "set", "case-1", "--reason", "subpoena")[0] == 0
    assert "case-1" in run("hold", "list")[1]
    assert "kept by legal hold: case-1" in run("prune", "--dry-run")[1]
    assert run("hold", "release", "case-1")[0] == 0
    code, out, _ = run("rotate-key")
    assert code == 0 and "new audit signing key" in out
    assert len(run("pubkey")[1].splitlines()) == 2
    assert run("verify")[0] == 0
