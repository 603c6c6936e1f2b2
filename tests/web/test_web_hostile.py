"""Issue 20, hostile input through the real server (gunicorn, the real model): every hostile file
uploaded to POST /documents/upload gets a 4xx with a JSON error naming the problem (or is read
harmlessly), never a 500; hostile names are stored as safe names; and while bombs are being
uploaded, /readyz and another user's chat question are still answered."""
from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parents[1] / "data" / "hostile"))
import make_corpus  # noqa: E402

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"  # the live fixture's users (tests/web/conftest.py)
REFUSED = {400, 413, 415, 422}
QUESTION = "What is the minimum length for my hospital password?"
BOMBS = ("zip-bomb-flat.docx", "pdf-flate-bomb.pdf", "pdf-600k-objects.pdf",
         "zip-bomb-many-entries.docx", "html-deep-nesting.html", "pdf-million-page-refs.pdf",
         "zip-bomb-hidden-size.docx", "docx-billion-laughs.docx")


class Browser:
    """A logged-in user over plain HTTP. The server sets Secure (__Host-) cookies, which
    `requests` will not send to http://127.0.0.1, so this keeps them itself."""

    def __init__(self, url: str, username: str):
        self.url, self.cookies = url, {}
        page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        login = self.request("POST", "/login", data={"username": username,
                                                     "password": PASSWORD, "csrf_token": token})
        assert login.status_code == 303, login.text[:500]
        chat = self.get("/chat")
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', chat.text).group(1)

    def request(self, method: str, path: str, **kw) -> requests.Response:
        response = requests.request(method, self.url + path, cookies=self.cookies,
                                    allow_redirects=False, timeout=300, **kw)
        self.cookies.update({c.name: c.value for c in response.cookies})
        return response

    def get(self, path: str) -> requests.Response:
        return self.request("GET", path)

    def upload(self, filename: str, data: bytes) -> requests.Response:
        """A multipart upload written by hand, so the name arrives byte for byte (NUL, RTL
        override, separators; only the quoted-string escapes of `\\` and `"` are added)."""
        boundary = b"hostile-boundary-7b2f"
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8")
        body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="'
                + quoted + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data
                + b"\r\n--" + boundary + b"--\r\n")
        return self.request("POST", "/documents/upload", data=body, headers={
            "Content-Type": "multipart/form-data; boundary=" + boundary.decode(),
            "X-CSRF-Token": self.csrf, "X-Requested-With": "fetch",
            "Accept": "application/json"})

    def delete(self, doc_id: int) -> None:
        response = self.request("POST", f"/documents/{doc_id}/delete",
                                headers={"X-CSRF-Token": self.csrf, "Accept": "application/json"})
        assert response.status_code == 200, response.text[:300]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus.build(tmp_path_factory.mktemp("hostile-corpus"))


@pytest.fixture
def admin(live):
    """The admin's browser; the documents it adds are deleted afterwards (the server is
    shared with the other live tests)."""
    browser = Browser(live.url, "admin")
    browser.added = []
    yield browser
    for doc_id in browser.added:
        browser.delete(doc_id)


def _check(name: str, exp, response: requests.Response, admin: Browser) -> str:
    """Assert one upload's answer against the expectation; a line for the report."""
    assert response.status_code != 500 and response.status_code < 500, response.text[:500]
    body = response.json()
    assert response.headers["Content-Type"].startswith("application/json")
    if response.status_code in (200, 201):
        admin.added.append(body["doc_id"])
        assert exp.text, f"{name!r} was stored ({body}), expected /{exp.error}/"
        assert response.status_code == 201 and body["status"] == "added", body
        stored = body["name"]
        assert re.fullmatch(exp.stored or re.escape(name), stored), stored
        assert "/" not in stored and "\\" not in stored and "\x00" not in stored
        assert "\u202e" not in stored and len(stored) <= 255
        page = admin.get(f"/documents/{body['doc_id']}")
        assert page.status_code == 200 and exp.text in page.text
        for secret in exp.never:
            assert secret not in page.text
        return f"{response.status_code} stored as {stored!r}"
    assert response.status_code in REFUSED, (response.status_code, body)
    error = body["error"]
    assert isinstance(error, str) and exp.error, (name, body)
    assert re.search(exp.error, error, re.IGNORECASE), error
    assert "Traceback" not in error and not any(s in error for s in exp.never)
    return f"{response.status_code} {error[:150]}"


def test_every_hostile_upload_is_refused_clearly_or_read_harmlessly(live, corpus, admin):
    report, wrong = [], []
    outside_before = _files_named(live.data_dir.parent, "passwd.md")
    for name, exp in corpus.items():
        started = time.monotonic()
        response = admin.upload(name, exp.data)
        try:
            line = _check(name, exp, response, admin)
        except AssertionError as failure:
            if not exp.known_bug:
                wrong.append(f"{ascii(name)[:60]}: {failure}")
            line = f"{response.status_code} {response.text[:150]}"
            if exp.known_bug:
                line += f"  (known product bug: {exp.known_bug[:60]}...)"
        report.append(f"{time.monotonic() - started:6.2f} s  {ascii(name)[:45]:45}  {line}")
    print("\n" + "\n".join(report))
    assert not wrong, "\n".join(wrong)
    # nothing was written outside the data dir: uploads are parsed from memory
    assert _files_named(live.data_dir.parent, "passwd.md") == outside_before
    assert _files_named(live.data_dir, "passwd.md") == []


def _files_named(root: Path, name: str) -> list[Path]:
    return sorted(p for p in root.rglob(name) if p.is_file())


def test_the_server_keeps_serving_while_bombs_are_uploaded(live, corpus, admin):
    from openai import OpenAI

    stop, first = threading.Event(), threading.Event()
    uploads: list[tuple[float, float, str, int]] = []  # start, end, name, status
    failures: list[BaseException] = []

    def bomb_thrower() -> None:
        thrower = Browser(live.url, "admin")  # its own session, in its own thread
        try:
            while not stop.is_set():
                for name in BOMBS:
                    started = time.monotonic()
                    first.set()
                    status = thrower.upload(name, corpus[name].data).status_code
                    uploads.append((started, time.monotonic(), name, status))
                    if stop.is_set():
                        break
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
            first.set()

    thread = threading.Thread(target=bomb_thrower, daemon=True)
    thread.start()
    try:
        assert first.wait(60)
        ready = []
        for _ in range(3):
            t0 = time.monotonic()
            response = requests.get(live.url + "/readyz", timeout=10)
            ready.append((response.status_code, time.monotonic() - t0))
        chat_started = time.monotonic()
        reply = OpenAI(base_url=live.url + "/v1", api_key=live.tokens[0], max_retries=0,
                       timeout=180).chat.completions.create(
            model="appliance", messages=[{"role": "user", "content": QUESTION}])
        chat_ended = time.monotonic()
    finally:
        stop.set()
        thread.join(120)
    assert not failures, failures
    print(f"\nreadyz {ready}; chat {chat_ended - chat_started:.1f} s; {len(uploads)} bomb "
          f"uploads, {sorted({s for *_, s in uploads})}")
    assert all(status == 200 and seconds < 5 for status, seconds in ready), ready
    assert "14" in reply.choices[0].message.content
    assert reply.model_extra["appliance"]["citations"][0]["doc_name"] == "it-security-policy.md"
    assert uploads and all(status in REFUSED for *_, status in uploads), uploads
    # the bombs were being processed while the question was answered
    assert any(start < chat_ended and end > chat_started for start, end, *_ in uploads)
    assert requests.get(live.url + "/readyz", timeout=10).status_code == 200
