"""nginx in front of two real `appliance serve` nodes on one PostgreSQL, configured by the
Ansible role's own template (ansible/roles/appliance_nginx/templates/appliance.conf.j2 as
rendered for an `appliance_nodes` group of two): requests spread over both nodes, a session
and a streamed answer work through it, a node killed mid-service costs users nothing, and the
node is back in rotation once it serves again."""
import os
import shutil
import signal
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import jinja2
import pytest

from livetools import ROOT, free_port, node_dirs, operator, start_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
TEMPLATE = ROOT / "ansible" / "roles" / "appliance_nginx" / "templates" / "appliance.conf.j2"
PASSWORD = "balanced-password-0001"


def _nginx(work: Path, ports: dict[str, int], listen: int) -> Path:
    """The role's template rendered for two nodes, a self-signed certificate, and a main
    nginx.conf around it in `work`; returns the main file."""
    if not (shutil.which("nginx") and shutil.which("openssl")):
        pytest.skip("nginx and openssl are needed (scripts/ops-install-test-deps.sh)")
    tls = work / "tls"
    tls.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", tls / "appliance.key", "-out", tls / "appliance.crt"],
                   check=True, capture_output=True)
    site = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        TEMPLATE.read_text()).render(
        ansible_managed="rendered by the test", groups={"appliance_nodes": list(ports)},
        hostvars={name: {"appliance_node_address": "127.0.0.1", "appliance_node_port": port}
                  for name, port in ports.items()},
        appliance_node_port=8080, appliance_socket="/nonexistent.sock",
        appliance_nginx_max_fails=1, appliance_nginx_fail_timeout="3s",
        appliance_nginx_listen_address="127.0.0.1", appliance_nginx_port=listen,
        appliance_nginx_server_name="localhost", appliance_nginx_tls_dir=str(tls),
        appliance_nginx_access_log=False, appliance_nginx_client_max_body_size="51m")
    (work / "site.conf").write_text(site)
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = work / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n"
        f"    client_body_temp_path {work}/body;\n    proxy_temp_path {work}/proxy;\n"
        f"    include {work}/site.conf;\n}}\n")
    checked = subprocess.run(["nginx", "-t", "-c", main], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    return main


def test_nginx_balances_two_nodes_and_rides_over_one_going_down(pg_url, model_dir, tmp_path,
                                                                 embedder):
    import requests
    from openai import OpenAI

    gguf = next(model_dir.glob("*.gguf"))
    toml = (f'database_url = "{pg_url}"\nllm_model_path = "{gguf}"\nnode_name = "{{name}}"\n'
            "max_answer_tokens = 24\n")
    a, b, c = node_dirs(tmp_path, toml, ["node-a", "node-b", "ops"])
    ops, who = operator(c, pg_url, embedder)
    ops.accounts.create_user(who, "nurse", password=PASSWORD)
    token, _ = ops.accounts.tokens.create(who, "balanced")
    ports = {"node-a": free_port(), "node-b": free_port()}
    listen = free_port()
    main = _nginx(tmp_path / "nginx", ports, listen)
    nodes, nginx = {}, None
    try:
        nodes = {d.name: start_server(d, None, {}, ports[d.name]) for d in (a, b)}
        nginx = subprocess.run(["nginx", "-c", main], capture_output=True, text=True)
        assert nginx.returncode == 0, nginx.stderr
        base = f"https://localhost:{listen}"
        cafile = str(tmp_path / "nginx" / "tls" / "appliance.crt")
        user = requests.Session()
        user.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over verify
        user.verify = cafile

        served = [user.get(base + "/readyz", timeout=10) for _ in range(12)]
        assert all(r.status_code == 200 for r in served)
        assert {r.headers["X-Appliance-Node"] for r in served} == {"node-a", "node-b"}
        assert all(r.headers["Server"] == "nginx" for r in served)

        _login(user, base)
        client = OpenAI(base_url=base + "/v1", api_key=token,
                        http_client=httpx.Client(verify=ssl.create_default_context(
                            cafile=cafile)))
        stream = client.chat.completions.create(
            model="appliance", stream=True,
            messages=[{"role": "user", "content": "What is the annual leave allowance?"}])
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream
                       if chunk.choices)
        assert text.strip()  # streamed through the balancer, token by token

        os.killpg(nodes["node-b"].process.pid, signal.SIGKILL)  # node B's host dies
        nodes["node-b"].process.wait(10)
        after = []
        for i in range(16):
            page = user.get(base + "/account", timeout=10, allow_redirects=False)
            after.append((page.status_code, page.headers.get("X-Appliance-Node")))
            if i % 4 == 0:  # new logins too: a POST that never reached B goes to A
                _login(requests.Session(), base, verify=cafile)
        assert after == [(200, "node-a")] * 16  # no user saw the failure
        assert client.models.list().data[0].id

        nodes["node-b"] = start_server(b, None, {}, ports["node-b"])  # B serves again …
        time.sleep(3.5)  # … and nginx tries it once fail_timeout has passed
        back = {user.get(base + "/account", timeout=10).headers["X-Appliance-Node"]
                for _ in range(12)}
        assert back == {"node-a", "node-b"}
    finally:
        pid = tmp_path / "nginx" / "nginx.pid"
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGQUIT)
        for node in nodes.values():
            node.stop()
        ops.close()


def _login(session, base: str, verify: str | None = None) -> None:
    import re

    if verify:
        session.trust_env, session.verify = False, verify
    page = session.get(base + "/login", timeout=10)
    form = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = session.post(base + "/login", allow_redirects=False, timeout=30,
                        data={"username": "nurse", "password": PASSWORD, "csrf_token": form})
    assert done.status_code == 303, done.text[:500]
