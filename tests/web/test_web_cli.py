"""`appliance users` and `appliance groups`: the operator manages accounts from the box."""
import io
import json

from appliance.cli import main


def _run(capsys, data, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--data-dir", str(data), *argv])
    return code, capsys.readouterr()


def test_users_and_groups_from_the_cli(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    code, out = _run(capsys, data, "users", "add", "zed", "--role", "auditor")
    assert code == 0 and "password:" in out.out
    password = out.out.split("password: ")[1].split()[0]
    assert len(password) >= 16
    assert _run(capsys, data, "groups", "add", "nurses")[0] == 0
    assert _run(capsys, data, "groups", "grant", "nurses", "ward", "--access", "write")[0] == 0
    assert _run(capsys, data, "groups", "member", "nurses", "zed")[0] == 0
    code, out = _run(capsys, data, "users", "list", "--json")
    assert json.loads(out.out) == [{"username": "zed", "role": "auditor", "disabled": False,
                                    "groups": ["nurses"]}]
    code, out = _run(capsys, data, "groups", "list", "--json")
    assert json.loads(out.out)[0]["collections"] == {"ward": "write"}
    code, out = _run(capsys, data, "users", "passwd", "zed", "--password-stdin",
                     stdin="a brand new passphrase\n", monkeypatch=monkeypatch)
    assert code == 0 and "password:" not in out.out
    code, out = _run(capsys, data, "users", "role", "zed", "admin")
    assert code == 0 and "now admin" in out.out
    code, out = _run(capsys, data, "users", "disable", "zed")  # the only admin
    assert code == 2 and "no active administrator" in out.err
    code, out = _run(capsys, data, "users", "add", "bad name")
    assert code == 2 and "user name" in out.err


def test_serve_is_a_command(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "--workers" in capsys.readouterr().out
