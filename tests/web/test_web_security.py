"""Web security: CSRF, session replay, throttling, cookies, headers, GET never changes
state, inert rendering of hostile text, and no page that references an outside URL."""
import re
from html.parser import HTMLParser
from pathlib import Path

from webtools import WebUser, done_event

STATIC = Path(__file__).resolve().parents[2] / "appliance" / "web" / "static"


def test_state_changes_need_the_csrf_token(world):
    carol = world.logged_in("carol")
    ask = {"question": "Which VPN should I use?"}
    assert carol.post("/chat/ask", json=ask, csrf=False).status_code == 403
    assert carol.post("/chat/ask", json=ask, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert carol.post("/account/tokens", data={"name": "x"}, csrf=False).status_code == 403
    assert carol.post("/logout", csrf=False).status_code == 403
    # A cross-site page cannot post even with a token it somehow learned.
    cross = carol.post("/chat/ask", json=ask, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403 and "cross-origin" in cross.json["error"]
    assert carol.post("/chat/ask", json=ask,
                      headers={"Origin": "https://localhost"}).status_code == 200


def test_the_login_form_has_its_own_csrf_check(world):
    user = world.user("carol")
    response = user.client.post("/login", base_url="https://localhost",
                                data={"username": "carol", "password": "x" * 14})
    assert response.status_code == 403 and "expired" in response.get_data(as_text=True)


def test_get_never_changes_state(world):
    carol = world.logged_in("carol")
    assert carol.get("/logout").status_code == 405
    assert carol.get("/chat/ask").status_code == 405
    assert carol.get("/documents/1/delete").status_code == 405
    assert carol.get("/chat").status_code == 200  # still logged in


def test_a_session_cookie_replayed_after_logout_is_refused(world):
    carol = world.logged_in("carol")
    cookie = carol.client.get_cookie("__Host-appliance_session", domain="localhost")
    assert cookie is not None
    stolen = cookie.value
    assert carol.post("/logout").status_code == 303
    thief = world.app.test_client()
    thief.set_cookie("__Host-appliance_session", stolen, domain="localhost")
    response = thief.get("/chat", base_url="https://localhost")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    api = thief.post("/chat/ask", base_url="https://localhost", json={"question": "hi"},
                     headers={"X-CSRF-Token": carol.csrf})
    assert api.status_code in (401, 403)


def test_throttling_locks_an_account_and_reports_retry_after(world):
    world.services.accounts.create_user(None, "target", "user", "correct horse battery staple")
    attacker = WebUser(world.app, "target", "wrong password guess")
    for _ in range(3):
        assert attacker.login().status_code == 401
    locked = attacker.login()
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    # The right password from another address is refused while the account is locked.
    owner = world.user("target")
    assert owner.login().status_code == 429
    events = [e for e in world.services.audit.events()
              if e.type == "auth.login.failure" and e.actor == "target"]
    assert len(events) >= 5 and events[-1].outcome == "denied"


def test_cookies_are_host_prefixed_secure_httponly_samesite(world):
    user = world.user("carol")
    response = user.login()
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-appliance_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in header
    assert "Domain" not in header


def test_plain_http_cookie_names_follow_the_setting(app_factory):
    from appliance.app import create_app

    app = app_factory(web_secure_cookies=False)
    page = create_app(app.settings, app).test_client().get("/login")
    header = page.headers["Set-Cookie"]
    assert header.startswith("appliance_login=") and "Secure" not in header


def test_security_headers_on_every_response(world):
    carol = world.logged_in("carol")
    for path in ("/chat", "/documents", "/healthz", "/static/app.js", "/nope"):
        response = carol.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_errors_are_clear_and_never_tracebacks(world):
    carol = world.logged_in("carol")
    missing = carol.get("/documents/99999")
    assert missing.status_code == 404 and "Traceback" not in missing.text
    assert carol.get("/admin").status_code == 403
    assert world.user("carol").get("/v1/models").status_code == 401


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.inline_scripts, self.tags = [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for name in ("src", "href", "action", "formaction", "poster", "data", "srcset"):
            if attrs.get(name):
                self.refs.append(attrs[name])
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1
        if any(name.startswith("on") for name in attrs) or "style" in attrs:
            self.inline_scripts += 1


def _outside(ref: str) -> bool:
    return bool(re.match(r"^\s*(https?:)?//", ref, re.I)) and "localhost" not in ref


def test_no_page_references_an_outside_url_or_inline_script(world):
    carol = world.logged_in("carol")
    carol.ask("When does the canteen open?")
    admin, audrey = world.logged_in("admin"), world.logged_in("audrey")
    conv = carol.get("/chat").text
    conv_id = re.search(r'/chat/(\d+)"', conv).group(1)
    docs = {d.name: d.id for d in world.services.documents.list(_principal(world, "admin"))}
    pages = [(carol, "/login"), (carol, "/chat"), (carol, f"/chat/{conv_id}"),
             (carol, "/documents"), (carol, f"/documents/{docs['canteen.md']}"),
             (carol, "/account"), (admin, "/admin"), (admin, "/admin/policy"),
             (audrey, "/audit"), (audrey, "/admin/policy")]
    for user, path in pages:
        response = user.get(path)
        assert response.status_code == 200, path
        parser = _Refs()
        parser.feed(response.text)
        outside = [r for r in parser.refs if _outside(r)]
        assert not outside, (path, outside)
        assert parser.inline_scripts == 0, path
    for asset in STATIC.iterdir():
        text = asset.read_text()
        if asset.suffix in (".css", ".js"):
            assert not re.search(r"https?://|@import|url\(\s*['\"]?//", text), asset.name


def _principal(world, name):
    from appliance.accounts.login import Principal

    info = world.services.accounts.user(name)
    return Principal(info.id, info.username, info.role, "session")


def test_hostile_text_in_documents_and_answers_renders_inert(world):
    carol = world.logged_in("carol")
    done = done_event(carol.ask("When does the canteen open?"))
    assert "<script>" in done["answer"]  # the model repeated the hostile passage...
    conv_id = re.search(r'/chat/(\d+)"', carol.get("/chat").text).group(1)
    doc_id = done["citations"][0]["doc_id"]
    for path in (f"/chat/{conv_id}", f"/documents/{doc_id}"):
        html = carol.get(path).text
        assert "window.__pwned" in html                  # ...the text is there...
        assert "<script>window" not in html             # ...but only as text
        assert "&lt;script&gt;" in html and "<img src=x" not in html
        parser = _Refs()
        parser.feed(html)
        assert not [t for t, a in parser.tags if t == "img"]
        assert parser.inline_scripts == 0
        # the source shows a markdown image as text; an answer drops it (links.py)
        assert ("tracker.example/pixel.png" in html) == path.startswith("/documents")
        assert not [r for r in parser.refs if "tracker.example" in r]
