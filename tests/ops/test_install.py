"""The real install: `ansible-playbook` with a local connection, as root, inside a network
namespace with only loopback, from a bundle built here (offline, from the wheel cache that
scripts/ops-install-test-deps.sh fills).

What this covers: tampered wheel/model/manifest and a wrong key are refused before any change;
--check on a fresh host; the first install; the appliance answering its health check over TLS
through nginx on loopback; a second run with changed=0; --check with changed=0 on the installed
host; the unit file passing `systemd-analyze verify` and `security --offline`. systemd is not
PID 1 here, so the test starts the unit's ExecStart (as the service user) and nginx itself.
Everything the playbook made (user, group, directories, unit files) is removed at the end.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from opstools import (nginx_main_conf, ops_env, ops_tool, record, stop_process, system_tool,
                      unit_command)

pytestmark = pytest.mark.slow

NAME = "appliance-ci"  # user, group, service and path names: nothing of a real install's
PATHS = {
    "appliance_prefix": f"/opt/{NAME}",
    "appliance_data_dir": f"/var/lib/{NAME}",
    "appliance_config_dir": f"/etc/{NAME}",
    "appliance_run_dir": f"/run/{NAME}",
}
UNIT = Path(f"/etc/systemd/system/{NAME}.service")
TMPFILES = Path(f"/etc/tmpfiles.d/{NAME}.conf")
PORT = 8443
ADMIN_PASSWORD = "ci-admin-password-0001"
RECAP = re.compile(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def _exists_user(name: str) -> bool:
    return subprocess.run(["id", "-u", name], capture_output=True).returncode == 0


def clean_host() -> None:
    """Remove whatever a test install left: user, group, directories, unit files."""
    for path in [*PATHS.values(), UNIT, TMPFILES]:
        path = Path(path)
        if path.is_dir():
            for _ in range(5):  # a process of an interrupted earlier run may still be writing
                shutil.rmtree(path, ignore_errors=True)
                if not path.exists():
                    break
                time.sleep(1)
            assert not path.exists(), f"cannot remove {path}"
        elif path.exists():
            path.unlink()
    if _exists_user(NAME):
        subprocess.run(["userdel", NAME], check=True)
    if subprocess.run(["getent", "group", NAME], capture_output=True).returncode == 0:
        subprocess.run(["groupdel", NAME], check=True)


@dataclass
class Run:
    rc: int
    out: str
    seconds: float
    recap: dict = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return self.recap["changed"]


@dataclass
class Host:
    ns: object
    work: Path
    nginx_dir: Path
    playbook_python: str
    processes: list = field(default_factory=list)

    def inventory(self, bundle: Path, pin: str) -> Path:
        vars_ = {**PATHS, "appliance_bundle_dir": str(bundle),
                 "appliance_bundle_public_key_sha256": pin,
                 "appliance_admin_password": ADMIN_PASSWORD,
                 "appliance_user": NAME, "appliance_group": NAME,
                 "appliance_service_name": NAME,
                 "appliance_python": "/usr/bin/python3.11",
                 "appliance_nginx_conf_dir": str(self.nginx_dir),
                 "appliance_nginx_install_package": False,
                 "appliance_nginx_listen_address": "127.0.0.1",
                 "appliance_nginx_port": PORT, "appliance_nginx_server_name": "localhost",
                 "appliance_web_threads": 4,
                 "appliance_service_environment": {"OMP_NUM_THREADS": "2"},
                 "appliance_extra_models_list": _extra_models(bundle)}
        inventory = {"all": {"children": {"appliance": {
            "hosts": {"localhost": {"ansible_connection": "local",
                                    "ansible_python_interpreter": self.playbook_python}},
            "vars": vars_}}}}
        path = self.work / f"inventory-{abs(hash((str(bundle), pin)))}.yml"
        path.write_text(yaml.safe_dump(inventory))
        return path

    def play(self, bundle: Path, pin: str, *extra: str) -> Run:
        playbook = ops_tool("ansible-playbook")
        started = time.monotonic()
        result = self.ns.run([playbook, "-i", self.inventory(bundle, pin),
                              bundle / "ansible" / "site.yml", *extra],
                             cwd=bundle / "ansible", env=ops_env(), capture_output=True,
                             text=True, timeout=1800)
        run = Run(result.returncode, result.stdout + result.stderr, time.monotonic() - started)
        match = RECAP.search(run.out)
        if match:
            run.recap = dict(zip(("ok", "changed", "unreachable", "failed"),
                                 map(int, match.groups())))
        return run


def _extra_models(bundle: Path) -> list[dict]:
    """An operator's extra GGUF from the bundle, pinned by sha256 and made to serve (the
    bundled file itself stands in for it: the registry treats it as any other model)."""
    gguf = next((bundle / "models").glob("*.gguf"), None)
    if gguf is None:  # a tampered bundle without its model: the preflight refuses it anyway
        return []
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    return [{"name": "house-model", "bundle": f"models/{gguf.name}", "sha256": digest,
             "frame": "completion", "serve": True}]


def _debian_python() -> str:
    """The host's Debian python3.11 (what the playbook targets) for Ansible's modules."""
    if not Path("/usr/bin/python3.11").exists():
        pytest.skip("/usr/bin/python3.11 (Debian's python3.11 + python3.11-venv) is not installed")
    return "/usr/bin/python3.11"


@pytest.fixture(scope="module")
def host(netns, tmp_path_factory):
    system_tool("nginx")
    system_tool("runuser")
    if os.geteuid() != 0:
        pytest.skip("the install test runs the playbook as root")
    work = tmp_path_factory.mktemp("ansible-host")
    nginx_dir = work / "nginx"
    nginx_main_conf(nginx_dir)
    clean_host()
    host = Host(netns, work, nginx_dir, _debian_python())
    yield host
    for process in host.processes:
        stop_process(process)
    pid_file = nginx_dir / "nginx.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGQUIT)
    clean_host()
    assert not _exists_user(NAME)


def _tampered(bundle: Path, tmp: Path, what: str) -> Path:
    """A hard-linked copy of the bundle with one thing changed (the original stays intact)."""
    copy = tmp / f"tampered-{what}"
    subprocess.run(["cp", "-al", str(bundle), str(copy)], check=True)

    def rewrite(rel: str, change) -> None:
        target = copy / rel
        data = change(target.read_bytes())
        target.unlink()  # break the hard link before writing
        target.write_bytes(data)

    if what == "wheel":
        wheel = next(p.name for p in (copy / "wheelhouse").glob("mdurl-*.whl"))
        rewrite(f"wheelhouse/{wheel}", lambda b: b[:-1] + bytes([b[-1] ^ 1]))
    elif what == "model":
        model = next(p.name for p in (copy / "models").glob("*.gguf"))
        rewrite(f"models/{model}", lambda b: b[:4096] + bytes([b[4096] ^ 1]) + b[4097:])
    elif what == "manifest":
        rewrite("BUNDLE.json", lambda b: b.replace(b'"version": "', b'"version": "9', 1))
    return copy


def _https(ns, path: str, cafile: Path) -> tuple[int, dict, str]:
    """GET https://localhost:PORT/path from inside the namespace, checking the certificate."""
    code = (
        "import json, ssl, sys, urllib.request, urllib.error\n"
        f"ctx = ssl.create_default_context(cafile={str(cafile)!r})\n"
        "try:\n"
        f"    r = urllib.request.urlopen('https://localhost:{PORT}{path}', context=ctx, timeout=10)\n"
        "except urllib.error.HTTPError as e:\n"
        "    r = e\n"
        "print(json.dumps([r.status, dict(r.headers), r.read().decode()]))\n")
    result = ns.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return 0, {}, result.stderr[-500:]
    status, headers, body = json.loads(result.stdout)
    return status, headers, body


def test_a_tampered_bundle_is_refused_before_anything_changes(bundle, host, tmp_path):
    source, pin = bundle
    cases = {what: _tampered(source, tmp_path, what) for what in ("wheel", "model", "manifest")}
    cases["wrong-key"] = source
    for what, copy in cases.items():
        run = host.play(copy, "0" * 64 if what == "wrong-key" else pin)
        assert run.rc != 0, f"{what}: the install went ahead\n{run.out[-3000:]}"
        assert "REFUSED" in run.out, run.out[-3000:]
        assert run.recap["changed"] == 0 and run.recap["failed"] == 1, (what, run.recap)
        assert not _exists_user(NAME) and not Path(PATHS["appliance_prefix"]).exists(), what
    assert "wheelhouse/mdurl-" in host.play(cases["wheel"], pin).out  # names the file


def test_check_mode_on_a_fresh_host_changes_nothing(bundle, host):
    source, pin = bundle
    run = host.play(source, pin, "--check")
    assert run.rc == 0, run.out[-4000:]
    assert run.changed > 0  # it reports what it would do …
    assert not _exists_user(NAME) and not Path(PATHS["appliance_prefix"]).exists()  # … and did not


@pytest.fixture(scope="module")
def installed(bundle, host):
    source, pin = bundle
    run = host.play(source, pin)
    assert run.rc == 0, run.out[-6000:]
    assert run.recap["failed"] == 0 and run.changed > 0
    record("install", {"seconds": round(run.seconds, 1), "changed": run.changed,
                        "cpus": os.cpu_count()})
    return run


@pytest.fixture(scope="module")
def serving(installed, host):
    """The unit's ExecStart run as its user in the namespace (no systemd here), and nginx."""
    user, env, argv, cwd = unit_command(UNIT)
    assert user == NAME and argv[0].startswith(PATHS["appliance_prefix"])
    app = host.ns.popen(["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin",
                         *(f"{k}={v}" for k, v in env.items()), *argv],
                        cwd=cwd, stdout=(host.work / "app.log").open("wb"),
                        stderr=subprocess.STDOUT, start_new_session=True)
    host.processes.append(app)
    started = host.ns.run(["nginx", "-c", host.nginx_dir / "nginx.conf"], capture_output=True,
                          text=True)
    assert started.returncode == 0, started.stderr
    cafile = host.nginx_dir / "appliance-tls" / "appliance.crt"
    deadline = time.monotonic() + 240
    status = 0
    while time.monotonic() < deadline and app.poll() is None:
        status, _, _ = _https(host.ns, "/readyz", cafile)
        if status == 200:
            break
        time.sleep(2)
    log = (host.work / "app.log").read_text(errors="replace")
    assert status == 200, f"not ready over TLS (last {status}):\n{log[-3000:]}"
    return cafile


def test_the_installed_appliance_answers_over_tls_on_loopback(serving, host):
    status, headers, body = _https(host.ns, "/healthz", serving)
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert headers.get("Strict-Transport-Security") and headers.get("Server") == "nginx"
    status, _, body = _https(host.ns, "/login", serving)
    assert status == 200 and "password" in body.lower()


def test_a_second_run_changes_nothing(serving, bundle, host):
    source, pin = bundle
    run = host.play(source, pin)
    assert run.rc == 0 and run.changed == 0, run.out[-4000:]
    record("second_run", {"seconds": round(run.seconds, 1), "changed": run.changed})
    check = host.play(source, pin, "--check")
    assert check.rc == 0 and check.changed == 0, check.out[-4000:]


def test_a_tampered_bundle_is_refused_on_an_installed_host(serving, bundle, host, tmp_path):
    source, pin = bundle
    before = UNIT.read_text()
    run = host.play(_tampered(source, tmp_path, "wheel"), pin)
    assert run.rc != 0 and "REFUSED" in run.out and run.changed == 0, run.recap
    assert UNIT.read_text() == before
    status, _, _ = _https(host.ns, "/healthz", serving)
    assert status == 200  # still serving the verified release


def test_the_install_keeps_code_root_owned_and_secrets_private(installed):
    data, config = Path(PATHS["appliance_data_dir"]), Path(PATHS["appliance_config_dir"])
    venv = Path(PATHS["appliance_prefix"]) / "venv"
    assert venv.stat().st_uid == 0 and (venv / "bin" / "gunicorn").stat().st_uid == 0
    assert (data / "secrets").stat().st_mode & 0o777 == 0o700
    assert (data / "secrets" / "audit_signing.key").stat().st_mode & 0o777 == 0o600
    settings = config / "appliance.toml"
    assert settings.stat().st_uid == 0 and settings.stat().st_mode & 0o777 == 0o640
    assert ADMIN_PASSWORD not in settings.read_text()
    assert Path(PATHS["appliance_run_dir"]).stat().st_mode & 0o7777 == 0o2750


@pytest.mark.parametrize("unit", [UNIT, UNIT.with_name(f"{NAME}-sources.service")],
                         ids=["web", "sources"])
def test_the_unit_passes_systemd_analyze(installed, unit):
    analyze = system_tool("systemd-analyze")
    verify = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in verify.stderr.splitlines()
                if NAME in line and "BPF" not in line and "cgroup" not in line.lower()]
    assert verify.returncode == 0 and not problems, verify.stderr
    security = subprocess.run([analyze, "security", "--offline=true", "--threshold=25",
                               str(unit)], capture_output=True, text=True)
    out = security.stdout + security.stderr
    assert security.returncode == 0, out
    score = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out).group(1))
    record(f"systemd_exposure_{unit.stem}", score)
    assert score <= 2.5, out  # "OK" or better on systemd's 0 (safe) … 10 (exposed) scale


def test_the_extra_model_is_installed_registered_and_serving(installed):
    out = subprocess.run(["runuser", "-u", NAME, "--",
                          f"{PATHS['appliance_prefix']}/venv/bin/appliance", "--settings",
                          f"{PATHS['appliance_config_dir']}/appliance.toml", "models", "list",
                          "--json"], capture_output=True, text=True,
                         cwd=PATHS["appliance_data_dir"], env={**ops_env(), "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    registry = json.loads(out.stdout)
    assert registry["serving"] == "house-model"
    [model] = registry["models"]
    assert model["path"] == f"{PATHS['appliance_data_dir']}/models/extra/house-model.gguf"
    assert model["architecture"] == "gemma3" and model["frame"] == "completion"
