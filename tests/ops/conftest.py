"""Ops tests: the offline bundle, the Ansible playbook, the Dockerfile and the egress proof.

The tools come from scripts/ops-install-test-deps.sh (a .venv-ops virtualenv and Debian's nginx,
strace, iproute2, systemd). A test skips, with the reason, only where a tool or a privilege
(root, network namespaces) is genuinely missing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from opstools import ROOT, Namespace, record, system_tool


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.ops)


@pytest.fixture(scope="session")
def netns():
    """`ip netns add appliance-test-…` with lo up; removed at the end."""
    system_tool("ip")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    name = f"appliance-test-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {made.stderr.strip()}")
    ns = Namespace(name)
    try:
        ns.run(["ip", "link", "set", "lo", "up"], check=True)
        assert ns.interfaces() == ["lo"], "the namespace must hold loopback only"
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory):
    """The real bundle, built offline from the caches (about 1 GB of hard links) and signed
    with a throwaway key, once for the install tests; returns (dir, pinned fingerprint)."""
    out = tmp_path_factory.mktemp("bundle-build")
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bundle.py"), "build",
                             "--offline", "--no-tar", "--out", str(out),
                             "--key", str(out / "key" / "bundle-signing.key")],
                            capture_output=True, text=True, timeout=1200)
    if result.returncode != 0 and "no cached wheel" in result.stderr:
        pytest.skip("the wheel cache is empty: run scripts/ops-install-test-deps.sh "
                    "(it runs `scripts/bundle.py fetch`) before the tests")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    summary["build_seconds"] = round(time.monotonic() - started, 1)
    record("bundle", summary)
    return Path(summary["bundle"]), summary["public_key_sha256"]
