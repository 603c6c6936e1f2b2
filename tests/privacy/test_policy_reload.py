"""A policy file changed on a running appliance is enforced without a restart (every node an
Ansible run reaches, within policy_check_seconds); an invalid edit is refused, audited, and
the version in force stays."""
import json
import shutil
import time
from pathlib import Path

from helpers import make_settings

POLICIES = Path(__file__).resolve().parents[2] / "policies"

EMAIL = "Write to nina.ward@example.org about the rota."


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_changed_policy_file_is_enforced_without_a_restart(tmp_path):
    from appliance.services import build_services

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    app = build_services(make_settings(tmp_path / "data", policies_dir=str(policies),
                                       pii_policy="pci", policy_check_seconds=0.2))
    try:
        redactor = app.redactor  # what the pipeline holds from start-up
        assert "nina.ward@example.org" not in redactor.redact(EMAIL, "prompt").text
        old = redactor.policy.sha256

        policy = policies / "pci.yaml"
        policy.write_text(policy.read_text() + "\n# tightened: no change in rules\n")
        assert _wait_for(lambda: app.redactors.get(None).policy.sha256 != old)
        assert redactor.policy.sha256 != old  # the same object follows

        lenient = policy.read_text().replace("  EMAIL: redact", "  EMAIL: allow")
        assert lenient != policy.read_text()
        policy.write_text(lenient)
        assert _wait_for(lambda: (app.redactors.get(None),
                                  "nina.ward@example.org" in redactor.redact(EMAIL, "prompt")
                                  .text)[1])

        in_force = redactor.policy.sha256
        policy.write_text("version: 1\nentities: {EMAIL: [not, valid\n")  # a broken edit
        time.sleep(0.5)
        app.redactors.get(None)
        assert redactor.policy.sha256 == in_force  # refused: the version in force stays

        events = [e for e in app.audit.events() if e.type == "policy.change"]
        details = [e.details if isinstance(e.details, dict) else json.loads(e.details)
                   for e in events]
        assert [e.outcome for e in events] == ["success", "success", "failure"]
        assert details[0]["old_sha256"] == old and details[-1]["new_sha256"] is None
        assert "pci.yaml" in details[-1]["error"]
    finally:
        app.close()
