"""Ops tests: the offline bundle, the Ansible playbook, the Dockerfile and the egress proof.

The tools come from scripts/ops-install-test-deps.sh (a .venv-ops virtualenv and Debian's nginx,
strace, iproute2, systemd). A test skips, with the reason, only where a tool or a privilege
(root, network namespaces) is genuinely missing.
"""
from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from opstools import Namespace, system_tool


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
