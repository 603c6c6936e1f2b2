"""The appliance's whole life, for the egress test to run under strace in a loopback-only
network namespace:

  init → ingest the samples → ask (CLI) → serve → web login → web chat (streamed) → API token
  → OpenAI-compatible API call → stop → audit export → audit verify → verify the export

    python tests/ops/egress_life.py DATA_DIR PORT      (prints a JSON summary of each step)

Every step must succeed: the egress test counts connection attempts, and a life that failed
early would prove nothing.
"""
from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "egress-admin-password-1"
QUESTION = "What is the minimum length for my hospital password?"


def appliance(data: Path, *args: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(data), *args],
                            env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"appliance {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_ready(url: str, server: subprocess.Popen, log: Path) -> None:
    import requests

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server not ready:\n{log.read_text()[-3000:]}")


def web_and_api(url: str) -> dict:
    import requests

    web = requests.Session()
    login_page = web.get(url + "/login", timeout=10)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
    login = web.post(url + "/login", data={"username": "admin", "password": PASSWORD,
                                           "csrf_token": form_token, "next": ""},
                     allow_redirects=False, timeout=10)
    assert login.status_code == 303, (login.status_code, login.text[:500])
    chat_page = web.get(url + "/chat", timeout=10)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', chat_page.text).group(1)
    streamed = web.post(url + "/chat/ask", json={"question": QUESTION},
                        headers={"X-CSRF-Token": csrf}, stream=True, timeout=300)
    assert streamed.status_code == 200, streamed.text[:500]
    events = [line for line in streamed.iter_lines(decode_unicode=True) if line]
    assert any("it-security-policy" in e for e in events), events[-5:]

    made = web.post(url + "/account/tokens", data={"name": "egress", "csrf_token": csrf},
                    timeout=10)
    assert made.status_code == 201, made.text[:500]
    token = html.unescape(re.search(r'id="new-token">([^<]+)<', made.text).group(1)).strip()
    reply = requests.post(url + "/v1/chat/completions", timeout=300,
                          headers={"Authorization": f"Bearer {token}"},
                          json={"model": "appliance",
                                "messages": [{"role": "user", "content": QUESTION}]})
    assert reply.status_code == 200, reply.text[:500]
    body = reply.json()
    return {"web_login": login.status_code, "web_chat_events": len(events),
            "api_status": reply.status_code,
            "api_citations": [c["doc_name"] for c in body["appliance"]["citations"]]}


def main(data: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env.update({"APPLIANCE_ADMIN_PASSWORD": PASSWORD, "APPLIANCE_WEB_SECURE_COOKIES": "0",
                "APPLIANCE_THREADS": "2", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    summary = {}
    appliance(data, "init", env=env)
    ingest = json.loads(appliance(data, "ingest", str(ROOT / "samples" / "handbook"), "--json",
                                  env=env))
    summary["ingested_chunks"] = ingest["chunks_added"]
    answer = json.loads(appliance(data, "ask", QUESTION, "--json", env=env))
    summary["cli_citations"] = [c["doc_name"] for c in answer["citations"]]

    url = f"http://127.0.0.1:{port}"
    log = data / "serve.log"
    server = subprocess.Popen([sys.executable, "-m", "appliance", "--data-dir", str(data),
                               "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_ready(url, server, log)
        summary.update(web_and_api(url))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)

    export = data / "audit-export"
    appliance(data, "audit", "export", "--format", "jsonl", "--out", str(export), env=env)
    summary["audit_verify"] = appliance(data, "audit", "verify", env=env).strip().splitlines()[-1]
    summary["export_verify"] = appliance(data, "audit", "verify-export", str(export),
                                         env=env).strip().splitlines()[-1]
    return summary


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]))))
