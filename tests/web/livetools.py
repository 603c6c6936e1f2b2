"""A real `appliance serve` (gunicorn, real GGUF model) on a free loopback port, and a
headless Chromium driven by Debian's chromedriver."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--no-default-browser-check", "--disable-default-apps",
    "--disable-extensions", "--disable-client-side-phishing-detection",
    "--disable-domain-reliability", "--disable-features=Translate,OptimizationHints,MediaRouter",
    # Belt and braces: no host but loopback resolves, so nothing can leave the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1280,1000",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    settings: object
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # our own process group only
                self.process.wait(10)


def start_server(data_dir: Path, settings, env_overrides: dict[str, str],
                 port: int | None = None) -> LiveServer:
    import requests

    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("APPLIANCE_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    env.update(env_overrides)
    log = data_dir / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "--data-dir", str(data_dir), "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    server = LiveServer(f"http://127.0.0.1:{port}", data_dir, settings, process, log)
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.5)
    server.stop()
    raise AssertionError(f"server not ready in time: {log.read_text()[-3000:]}")


def node_dirs(root: Path, toml: str, names: list[str]) -> list[Path]:
    """Data dirs of nodes sharing one store: the first is `appliance init`ed, the others get
    its secrets (audit key, redaction secret), as an install of several nodes does. A
    `{name}` in the settings text becomes each node's name."""
    dirs = [root / name for name in names]
    for i, (name, folder) in enumerate(zip(names, dirs)):
        folder.mkdir()
        (folder / "appliance.toml").write_text(toml.replace("{name}", name))
        if i == 0:
            subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(folder),
                            "init"], check=True, capture_output=True)
        else:
            shutil.copytree(dirs[0] / "secrets", folder / "secrets")
    return dirs


def operator(data_dir: Path, database_url: str, embedder):
    """In-process services on the nodes' store, as an operator's shell would have them, and
    the first administrator (a principal) to act as: (services, principal)."""
    from appliance.accounts.login import Principal
    from appliance.services import build_services
    from appliance.settings import load_settings

    ops = build_services(load_settings({"data_dir": str(data_dir),
                                        "database_url": database_url}, environ={}))
    ops.__dict__["embedder"] = embedder
    admin = ops.accounts.user("admin")
    return ops, Principal(admin.id, "admin", "admin", "cli")


def chromium():
    """A headless Chromium, or a skip with the reason when it is not installed."""
    if not (shutil.which("chromium") and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromium-driver are not installed "
                    "(scripts/install-test-deps.sh installs them as root)")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    ARTIFACTS.mkdir(exist_ok=True)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
