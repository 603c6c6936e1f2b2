"""Helpers for the web tests: a fake generator, a logged-in test client, SSE parsing."""
from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field

from appliance.answering.prompts import REFUSAL

_ADDRESSES = itertools.count(10)


class FakeGenerator:
    """Stands in for the GGUF model: answers with the first source's text and cites it.

    `delay` slows each piece (to test queueing and cancellation); `reply` replaces the text.
    """

    n_ctx = 2048
    model_sha256 = "f" * 64
    adapter_sha256 = None

    def __init__(self):
        self.reset()

    def reset(self):
        self.delay = 0.0
        self.reply = None
        self.started = 0
        self.finished = 0
        self.closed_early = 0

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def stream(self, prompt: str, max_tokens: int, stop):
        self.started += 1
        sources = prompt.split("Sources:\n")[-1]
        first = re.match(r"\[1\] \([^)]*\) (.*)", sources)
        text = self.reply if self.reply is not None else (
            f"{first.group(1)[:300]} [1]" if first else REFUSAL)
        done = False
        try:
            for word in text.split(" "):
                if self.delay:
                    time.sleep(self.delay)
                yield word + " "
            done = True
        finally:
            if done:
                self.finished += 1
            else:
                self.closed_early += 1


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@dataclass
class WebUser:
    """A browser-like test client for one user, with its own client address."""

    app: object
    username: str
    password: str
    address: str = field(default_factory=lambda: f"10.0.0.{next(_ADDRESSES)}")

    def __post_init__(self):
        self.client = self.app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = self.address
        self.csrf = ""

    def login(self, password: str | None = None):
        page = self.client.get("/login", base_url="https://localhost")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.client.post("/login", base_url="https://localhost", data={
            "username": self.username, "password": password or self.password,
            "csrf_token": token})
        if response.status_code == 303:
            self.refresh_csrf()
        return response

    def refresh_csrf(self) -> str:
        page = self.get("/chat")
        match = re.search(r'name="csrf-token" content="([^"]*)"', page.text)
        self.csrf = match.group(1) if match else ""
        return self.csrf

    def get(self, path: str, **kw):
        return self.client.get(path, base_url="https://localhost", **kw)

    def post(self, path: str, csrf: bool = True, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if csrf:
            headers.setdefault("X-CSRF-Token", self.csrf)
        return self.client.post(path, base_url="https://localhost", headers=headers, **kw)

    def ask(self, question: str, **body) -> list[tuple[str, dict]]:
        response = self.post("/chat/ask", json={"question": question, **body})
        assert response.status_code == 200, response.get_data(as_text=True)
        return parse_sse(response.get_data(as_text=True))

    def ask_open(self, question: str, **body):
        """Start an ask and return the streaming response (iterate, then close)."""
        return self.post("/chat/ask", json={"question": question, **body}, buffered=False)


def done_event(events):
    found = [data for name, data in events if name == "done"]
    assert found, events
    return found[-1]
