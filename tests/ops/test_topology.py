"""The several-node topology installed by the real playbook: an inventory with an
`appliance_db` group (a primary and a synchronous `pg_basebackup` standby, two Debian
clusters on this host) and an `appliance_nodes` group, run with a local connection as root
inside a loopback-only network namespace, from the signed bundle.

First one node: it installs, serves, ingests. Then a second node is added to the inventory and
the playbook runs again: the new node gets the first node's secrets (no second `init`), catches
up with what the first ingested, and the first node's nginx balances both. A third run changes
nothing. Everything made (users, directories, units, clusters) is removed at the end."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from opstools import (nginx_main_conf, ops_env, ops_tool, record, stop_process, system_tool,
                      unit_command)

pytestmark = pytest.mark.slow

NODES = ("ci-topo-1", "ci-topo-2")
CLUSTERS = ("ci-topo-db-1", "ci-topo-db-2")
ADMIN_PASSWORD = "ci-admin-password-0002"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                   re.M)
FACT = "# Ward rounds\n\nWard rounds on the renal unit start at 08:15 every weekday.\n"


def _paths(name: str) -> dict[str, str]:
    return {"appliance_prefix": f"/opt/{name}", "appliance_data_dir": f"/var/lib/{name}",
            "appliance_config_dir": f"/etc/{name}", "appliance_run_dir": f"/run/{name}"}


def _pg_version() -> str:
    found = sorted(p.name for p in Path("/usr/lib/postgresql").glob("*") if p.name.isdigit())
    if not found or not shutil.which("pg_createcluster"):
        pytest.skip("PostgreSQL's Debian packages (postgresql, postgresql-common) are needed")
    return found[-1]


def _clean(version: str) -> None:
    for cluster in CLUSTERS:
        subprocess.run(["pg_dropcluster", "--stop", version, cluster], capture_output=True)
        shutil.rmtree(f"/etc/postgresql/{version}/{cluster}", ignore_errors=True)
        shutil.rmtree(f"/var/lib/postgresql/{version}/{cluster}", ignore_errors=True)
    for name in NODES:
        for path in _paths(name).values():
            shutil.rmtree(path, ignore_errors=True)
        for unit in (f"{name}.service", f"{name}-sources.service"):
            Path(f"/etc/systemd/system/{unit}").unlink(missing_ok=True)
        Path(f"/etc/tmpfiles.d/{name}.conf").unlink(missing_ok=True)
        if subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
            subprocess.run(["userdel", name], check=True)
        if subprocess.run(["getent", "group", name], capture_output=True).returncode == 0:
            subprocess.run(["groupdel", name], check=True)


class Topology:
    def __init__(self, ns, work: Path, bundle: Path, pin: str, version: str):
        self.ns, self.work, self.bundle, self.pin, self.version = ns, work, bundle, pin, version
        self.db_ports = [self._port(), self._port()]
        self.node_ports = {name: self._port() for name in NODES}
        self.https_ports = {name: self._port() for name in NODES}
        self.processes: dict[str, subprocess.Popen] = {}
        self.plays = 0

    @staticmethod
    def _port() -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def nginx_dir(self, name: str) -> Path:
        return self.work / f"nginx-{name}"

    def inventory(self, nodes: tuple[str, ...]) -> Path:
        python = "/usr/bin/python3.11"
        db_hosts = {f"db-{i + 1}": {
            "ansible_connection": "local", "ansible_python_interpreter": python,
            "appliance_db_address": "127.0.0.1", "appliance_db_port": port,
            "appliance_db_cluster": cluster, "appliance_db_version": self.version}
            for i, (cluster, port) in enumerate(zip(CLUSTERS, self.db_ports))}
        node_hosts = {}
        for name in nodes:
            conf = self.nginx_dir(name)
            node_hosts[name] = {
                "ansible_connection": "local", "ansible_python_interpreter": python,
                **_paths(name), "appliance_user": name, "appliance_group": name,
                "appliance_service_name": name, "appliance_node_address": "127.0.0.1",
                "appliance_node_port": self.node_ports[name],
                "appliance_nginx_conf_dir": str(conf),
                "appliance_nginx_port": self.https_ports[name]}
        inventory = {"all": {
            "vars": {"appliance_bundle_dir": str(self.bundle),
                     "appliance_bundle_public_key_sha256": self.pin,
                     "appliance_admin_password": ADMIN_PASSWORD,
                     "appliance_db_password": "ci-node-db-password-01",
                     "appliance_db_replication_password": "ci-replication-password-01",
                     "appliance_db_install_package": False, "appliance_manage_services": False,
                     "appliance_python": python, "appliance_nginx_install_package": False,
                     "appliance_nginx_listen_address": "127.0.0.1",
                     "appliance_nginx_server_name": "localhost", "appliance_web_threads": 4,
                     "appliance_service_environment": {"OMP_NUM_THREADS": "1"},
                     "appliance_service_sources_unit": False},
            "children": {"appliance_db": {"hosts": db_hosts},
                         "appliance_nodes": {"hosts": node_hosts}}}}
        path = self.work / f"inventory-{len(nodes)}.yml"
        path.write_text(yaml.safe_dump(inventory))
        return path

    def play(self, nodes: tuple[str, ...]) -> tuple[int, str, dict]:
        for name in nodes:
            if not self.nginx_dir(name).exists():
                nginx_main_conf(self.nginx_dir(name), user="root")
        started = time.monotonic()
        result = self.ns.run([ops_tool("ansible-playbook"), "-i", self.inventory(nodes),
                              self.bundle / "ansible" / "site.yml"],
                             cwd=self.bundle / "ansible", env=ops_env(), capture_output=True,
                             text=True, timeout=1800)
        out = result.stdout + result.stderr
        recap = {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)),
                              "failed": int(m.group(5))} for m in RECAP.finditer(out)}
        self.plays += 1
        record(f"topology_play_{self.plays}_{len(nodes)}_nodes_s",
               round(time.monotonic() - started, 1))
        return result.returncode, out, recap

    def serve(self, name: str) -> None:
        """The installed unit's ExecStart as its user (no systemd in the namespace)."""
        if name in self.processes:
            stop_process(self.processes.pop(name))
        user, env, argv, cwd = unit_command(Path(f"/etc/systemd/system/{name}.service"))
        log = (self.work / f"{name}.log").open("ab")
        self.processes[name] = self.ns.popen(
            ["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin",
             *(f"{k}={v}" for k, v in env.items()), *argv],
            cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def get(self, url: str, cafile: Path | None = None) -> tuple[int, dict, str]:
        code = (
            "import json, ssl, sys, urllib.request, urllib.error\n"
            f"ctx = ssl.create_default_context(cafile={str(cafile)!r}) if {bool(cafile)} "
            "else None\n"
            "try:\n"
            f"    r = urllib.request.urlopen({url!r}, context=ctx, timeout=10)\n"
            "except urllib.error.HTTPError as e:\n"
            "    r = e\n"
            "print(json.dumps([r.status, dict(r.headers), r.read().decode()]))\n")
        result = self.ns.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60)
        if result.returncode != 0:
            return 0, {}, result.stderr[-300:]
        return tuple(json.loads(result.stdout))

    def wait_ready(self, name: str) -> None:
        url = f"http://127.0.0.1:{self.node_ports[name]}/readyz"
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.get(url)[0] == 200:
                return
            assert self.processes[name].poll() is None, self.log(name)
            time.sleep(2)
        raise AssertionError(f"{name} not ready:\n{self.log(name)}")

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")[-3000:]

    def appliance(self, name: str, *args: str) -> subprocess.CompletedProcess:
        paths = _paths(name)
        return self.ns.run(["runuser", "-u", name, "--", f"{paths['appliance_prefix']}/venv/bin/"
                            "appliance", "--settings", f"{paths['appliance_config_dir']}/"
                            "appliance.toml", *args], capture_output=True, text=True,
                           cwd=paths["appliance_data_dir"],
                           env={**ops_env(), "HF_HUB_OFFLINE": "1"}, timeout=600)

    def close(self) -> None:
        for process in self.processes.values():
            stop_process(process)
        for name in NODES:
            pid = self.nginx_dir(name) / "nginx.pid"
            if pid.exists() and pid.read_text().strip():
                os.kill(int(pid.read_text()), signal.SIGQUIT)


@pytest.fixture(scope="module")
def topology(netns, bundle, tmp_path_factory):
    system_tool("nginx")
    system_tool("runuser")
    if os.geteuid() != 0:
        pytest.skip("the topology test runs the playbook as root")
    if not Path("/usr/bin/python3.11").exists():
        pytest.skip("/usr/bin/python3.11 (Debian's python3.11) is not installed")
    version = _pg_version()
    _clean(version)
    source, pin = bundle
    topology = Topology(netns, tmp_path_factory.mktemp("topology"), source, pin, version)
    try:
        yield topology
    finally:
        topology.close()
        _clean(version)


def test_one_node_then_a_second_joins_and_catches_up(topology):
    first = NODES[0]
    rc, out, recap = topology.play((first,))
    assert rc == 0, out[-6000:]
    assert recap["db-1"]["failed"] == recap["db-2"]["failed"] == recap[first]["failed"] == 0
    version = topology.version
    state = topology.ns.run(["runuser", "-u", "postgres", "--", "psql", "-p",
                             str(topology.db_ports[0]), "-Atc",
                             "SELECT sync_state FROM pg_stat_replication"],
                            capture_output=True, text=True)
    assert state.stdout.strip() == "sync", state.stdout + state.stderr  # a real standby
    settings = Path(_paths(first)["appliance_config_dir"], "appliance.toml").read_text()
    assert f"127.0.0.1:{topology.db_ports[0]},127.0.0.1:{topology.db_ports[1]}/appliance" \
        in settings
    assert Path(f"/etc/postgresql/{version}/{CLUSTERS[1]}/appliance-standby-copied").exists()

    doc = Path(_paths(first)["appliance_data_dir"], "ward-rounds.md")
    doc.write_text(FACT)
    shutil.chown(doc, first, first)
    ingested = topology.appliance(first, "ingest", str(doc))
    assert ingested.returncode == 0, ingested.stderr[-2000:]

    # A second node is added to the inventory later.
    rc, out, recap = topology.play(NODES)
    assert rc == 0, out[-6000:]
    second = NODES[1]
    assert recap[second]["changed"] > 0 and recap[second]["failed"] == 0
    secrets = Path(_paths(second)["appliance_data_dir"], "secrets")
    assert (secrets / "audit_signing.key").read_bytes() == Path(
        _paths(first)["appliance_data_dir"], "secrets", "audit_signing.key").read_bytes()
    assert (secrets / "audit_signing.key").stat().st_mode & 0o777 == 0o600
    found = topology.appliance(second, "search", "When do ward rounds start?", "--json")
    assert found.returncode == 0, found.stderr[-2000:]
    assert "ward-rounds.md" in found.stdout  # the new node caught up with the store

    for name in NODES:
        topology.serve(name)
    for name in NODES:
        topology.wait_ready(name)
    conf = topology.nginx_dir(first)
    started = topology.ns.run(["nginx", "-c", conf / "nginx.conf"], capture_output=True,
                              text=True)
    assert started.returncode == 0, started.stderr
    cafile = conf / "appliance-tls" / "appliance.crt"
    served = {topology.get(f"https://localhost:{topology.https_ports[first]}/readyz", cafile)[1]
              .get("X-Appliance-Node") for _ in range(10)}
    assert served == set(NODES)  # the first node's nginx balances both nodes

    rc, out, recap = topology.play(NODES)  # idempotent
    assert rc == 0 and all(r["changed"] == 0 for r in recap.values()), \
        (recap, out[-4000:])
    verify = topology.appliance(second, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
