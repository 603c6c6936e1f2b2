"""Helpers for the ops tests: where the tools are, their environment, network namespaces."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPS_BIN = ROOT / ".venv-ops" / "bin"
ARTIFACTS = ROOT / "test-artifacts"
INSTALL_HINT = "run scripts/ops-install-test-deps.sh"


def ops_tool(name: str) -> Path:
    """A tool from the ops virtualenv, or skip saying how to install it."""
    path = OPS_BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed in .venv-ops ({INSTALL_HINT})")
    return path


def record(key: str, value) -> None:
    """Keep a measured figure in test-artifacts/ops-figures.json."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "ops-figures.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=1))


def system_tool(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}")
                                        if os.path.exists(p)), None)
    if not found:
        pytest.skip(f"{name} is not installed ({INSTALL_HINT} as root)")
    return found


def ops_env() -> dict[str, str]:
    """The environment for ops tools: offline, no APPLIANCE_* from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APPLIANCE_", "ANSIBLE_"))}
    env.update({"PATH": f"{OPS_BIN}:{env.get('PATH', '/usr/bin:/bin')}", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": "/tmp/.ansible-ops-tests",
                "ANSIBLE_REMOTE_TEMP": "/tmp/.ansible-ops-tests"})
    return env


class Namespace:
    """A network namespace with only loopback, up: nothing in it can reach another host."""

    def __init__(self, name: str):
        self.name = name

    def run(self, argv, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.name, *map(str, argv)], **kw)

    def popen(self, argv, **kw) -> subprocess.Popen:
        return subprocess.Popen(["ip", "netns", "exec", self.name, *map(str, argv)], **kw)

    def interfaces(self) -> list[str]:
        out = self.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True)
        return [line.split(":")[1].strip() for line in out.stdout.splitlines()]



def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM to the process's own group, then SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def unit_command(unit: Path) -> tuple[str, dict, list[str], str]:
    """User, Environment, ExecStart and WorkingDirectory of the installed unit file."""
    env, argv, user, cwd = {}, [], "", "/"
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            env.update(pair.split("=", 1) for pair in value.split())
        elif key == "ExecStart":
            argv = value.split()
        elif key == "User":
            user = value
        elif key == "WorkingDirectory":
            cwd = value
    return user, env, argv, cwd


def nginx_main_conf(conf: Path, user: str = "www-data") -> Path:
    """A main nginx.conf in `conf` that includes conf.d/*.conf (where the role writes its
    site), with its pid, log and temp files beside it; returns its path."""
    (conf / "conf.d").mkdir(parents=True, exist_ok=True)
    main = conf / "nginx.conf"
    main.write_text(
        f"user {user};\nworker_processes 1;\npid {conf}/nginx.pid;\n"
        f"error_log {conf}/error.log;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n    access_log off;\n"
        f"    client_body_temp_path {conf}/body;\n    proxy_temp_path {conf}/proxy;\n"
        f"    include {conf}/conf.d/*.conf;\n}}\n")
    return main
