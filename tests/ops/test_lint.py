"""Static checks of what operators run: yamllint, ansible-lint (production profile), the
playbook's syntax, hadolint on the Dockerfile, and systemd-analyze on the rendered unit."""
from __future__ import annotations

import subprocess

from opstools import ROOT, ops_env, ops_tool

ANSIBLE = ROOT / "ansible"


def _run(argv, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=ops_env(), capture_output=True,
                          text=True, timeout=600)


def test_yamllint_is_clean():
    result = _run([ops_tool("yamllint"), "--strict", "-c", ANSIBLE / ".yamllint", ANSIBLE])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile_passes():
    result = _run([ops_tool("ansible-lint"), "--offline", "--profile", "production",
                   "--nocolor"], cwd=ANSIBLE)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "Profile 'production' was required, and it passed" in out, out


def test_playbook_syntax_check():
    result = _run([ops_tool("ansible-playbook"), "--syntax-check", "-i",
                   ANSIBLE / "inventory.example.yml", ANSIBLE / "site.yml"], cwd=ANSIBLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "playbook: " in result.stdout


def test_every_role_variable_is_documented():
    """docs/operations.md names every variable a role defaults (operators read that, not YAML)."""
    import yaml

    doc = (ROOT / "docs" / "operations.md").read_text()
    names = set()
    for defaults in ANSIBLE.glob("roles/*/defaults/main.yml"):
        names |= set(yaml.safe_load(defaults.read_text()) or {})
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"undocumented in docs/operations.md: {missing}"


def test_hadolint_passes_the_dockerfile():
    result = _run([ops_tool("hadolint"), "--failure-threshold", "info", ROOT / "Dockerfile"])
    assert result.returncode == 0, result.stdout + result.stderr
