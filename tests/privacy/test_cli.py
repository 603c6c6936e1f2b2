"""`appliance pii ...` and `appliance policy ...` through the real argument parser and main()."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import appliance.cli as cli

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    # Only this module's commands: other command groups may not exist yet in this checkout.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("pii",))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for key in [k for k in __import__("os").environ if k.startswith("APPLIANCE_")]:
        monkeypatch.delenv(key)

    def _run(*argv, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(["--data-dir", str(tmp_path), *argv])
        out, err = capsys.readouterr()
        return code, out, err
    return _run


def test_detect_writes_one_line_per_input_in_order(run):
    lines = [{"text": "mail ana@example.com"}, {"text": "nothing here"},
             {"text": "SSN 536-22-8126 and (415) 555-2671"}]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n"
    code, out, _ = run("pii", "detect", "--no-ner", stdin=stdin)
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows[0] == {"entities": [{"type": "EMAIL", "start": 5, "end": 20, "score": 0.95}]}
    assert rows[1] == {"entities": []}
    assert [e["type"] for e in rows[2]["entities"]] == ["US_SSN", "PHONE"]
    assert set(rows[2]["entities"][0]) == {"type", "start", "end", "score"}


def test_detect_with_ner_and_named_policy(run):
    code, out, _ = run("pii", "detect", "--policy", "hipaa",
                       stdin=json.dumps({"text": "Maria Garcia was admitted on 03/15/2024."}) + "\n")
    assert code == 0
    types = [e["type"] for e in json.loads(out)["entities"]]
    assert types == ["PERSON", "DATE"]


def test_detect_rejects_bad_input_with_line_number(run):
    code, _, err = run("pii", "detect", "--no-ner", stdin='{"text": "ok"}\nnot json\n')
    assert code == 2 and "stdin line 2" in err


def test_redact_file_streams_lines_and_reports_counts(run, tmp_path):
    src = tmp_path / "note.txt"
    src.write_text("Patient email ana@example.com\nSSN 536-22-8126\n", encoding="utf-8")
    code, out, err = run("pii", "redact", "--policy", "default", "--no-ner", str(src))
    assert code == 0
    assert out == "Patient email [EMAIL]\nSSN [US_SSN]\n"
    assert "EMAIL=1" in err and "US_SSN=1" in err and "ana@" not in err


def test_redact_stdin_with_pseudonyms(run):
    code, out, _ = run("pii", "redact", "--policy", "hipaa", "-",
                       stdin="Maria Garcia saw John Smith.\nMaria Garcia left.\n")
    assert code == 0
    assert out == "PERSON_1 saw PERSON_2.\nPERSON_1 left.\n"


def test_policy_check_ok_and_error(run, tmp_path):
    code, out, _ = run("policy", "check", str(POLICIES / "hipaa.yaml"))
    assert code == 0 and "ok:" in out and "sha256" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("entities:\n  EMAIL: redact\n  FOO: redact\n")
    code, _, err = run("policy", "check", str(bad))
    assert code == 2
    assert f"{bad}:3: unknown entity type 'FOO'" in err


def test_policy_list(run):
    code, out, _ = run("policy", "list")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"default", "hipaa", "gdpr", "pci"} <= set(names)


def test_unknown_policy_name_is_a_user_error(run):
    code, _, err = run("pii", "detect", "--policy", "nosuch", stdin="")
    assert code == 2 and "not found" in err
