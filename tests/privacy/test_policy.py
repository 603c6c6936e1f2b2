"""Policies: the shipped files validate; invalid ones fail with file, line and problem."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from appliance.errors import PolicyError
from appliance.privacy import list_policies, load_policy

from .conftest import make_policy

ROOT = Path(__file__).resolve().parents[2] / "policies"


@pytest.mark.parametrize("name", ["default", "hipaa", "gdpr", "pci"])
def test_shipped_policies_load(name):
    policy = load_policy(name, ROOT)
    assert policy.name == name
    assert policy.sha256 == hashlib.sha256((ROOT / f"{name}.yaml").read_bytes()).hexdigest()
    assert policy.applies_to("output")


def test_list_policies_finds_the_four():
    assert {p.stem for p in list_policies(ROOT)} >= {"default", "hipaa", "gdpr", "pci"}


def test_hipaa_covers_the_text_identifiers():
    hipaa = load_policy("hipaa", ROOT)
    for t in ("PERSON", "ADDRESS", "DATE", "AGE", "PHONE", "EMAIL", "US_SSN", "MEDICAL_RECORD_NUMBER",
              "HEALTH_PLAN_ID", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "VEHICLE_ID", "MAC_ADDRESS",
              "URL", "IP_ADDRESS"):
        assert t in hipaa.entities


def test_per_entity_paths():
    default = load_policy("default", ROOT)
    assert "DATE" not in default.rules_for("prompt")
    assert "DATE" in default.rules_for("logs")


BAD = [
    ("entities:\n  EMIAL: redact\n", 2, "unknown entity type 'EMIAL' (did you mean EMAIL?)"),
    ("entities:\n  EMAIL: obliterate\n", 2, "unknown action 'obliterate'"),
    ("entities:\n  EMAIL:\n    action: redact\n    min_score: 1.5\n", 4, "min_score must be a number from 0 to 1"),
    ("entities:\n  EMAIL: redact\npaths: [ingest, outptu]\n", 3, "unknown path 'outptu'"),
    ("entities:\n  EMAIL: redact\ncolour: blue\n", 3, "unknown key 'colour'"),
    ("entities:\n  EMAIL: {action: mask, keep_last: -1}\n", 2, "keep_last must be an integer"),
    ("entities:\n  EMAIL: redact\n  EMAIL: hash\n", 3, "duplicate key 'EMAIL'"),
    ("entities:\n  EMAIL: [redact\n", 3, "invalid YAML"),
    ("version: 1\n", 1, "entities must map at least one entity type"),
    ("entities:\n  EMAIL: redact\ncustom_recognizers:\n  - name: emp\n    type: EMPLOYEE_ID\n"
     "    pattern: '[unclosed'\n", 6, "invalid regular expression"),
    ("entities:\n  EMAIL: redact\ncustom_recognizers:\n  - name: emp\n    type: EMPLOYEE_ID\n"
     "    pattern: 'E\\d{6}'\n", 3, "type EMPLOYEE_ID has no entry under entities"),
    ("entities:\n  PERSON: redact\nlanguages: [en, de]\n", 3, "no NER model is installed for language 'de'"),
    ("entities:\n  PHONE: redact\nphone_regions: [US, XX]\n", 3, "unknown phone region 'XX'"),
    ("entities:\n  EMAIL: {action: redact, tag: '<{kind}>'}\n", 2, "may only use the placeholders"),
]


@pytest.mark.parametrize("text,line,problem", BAD, ids=[b[2][:40] for b in BAD])
def test_invalid_policy_names_file_line_and_problem(text, line, problem):
    with pytest.raises(PolicyError) as err:
        make_policy(text, source="policies/broken.yaml")
    message = str(err.value)
    assert message.startswith(f"policies/broken.yaml:{line}: "), message
    assert problem in message


def test_missing_policy_file_and_bad_name(tmp_path):
    with pytest.raises(PolicyError, match="not found"):
        load_policy("nosuch", tmp_path)
    with pytest.raises(PolicyError, match="invalid policy name"):
        load_policy("..", tmp_path)


def test_policy_from_path_with_custom_recognizer_and_deny_terms(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_text(
        "entities:\n  EMPLOYEE_ID: redact\n  PROJECT: redact\n"
        "custom_recognizers:\n  - name: emp\n    type: EMPLOYEE_ID\n    pattern: '\\bE\\d{6}\\b'\n"
        "    score: 0.3\n    context: [employee]\n"
        "deny_terms:\n  PROJECT: [Project Falcon]\n")
    policy = load_policy(str(path))
    assert policy.name == "bank"
    from appliance.privacy import Redactor
    r = Redactor(policy, b"s" * 32)
    out = r.redact("part E654321 ships today, and separately employee E123456 on project falcon",
                   "prompt")
    assert out.text == ("part E654321 ships today, and separately employee [EMPLOYEE_ID] on "
                        "[PROJECT]")
