"""A shared web world: one data dir, users in groups A and B, documents in several
collections, the real embedder and a fake generator (the live-server tests use the real one)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import SAMPLES, make_settings
from webtools import FakeGenerator, WebUser

PASSWORD = "correct horse battery staple"
ALPHA_FACT = "The alpha vault code is ZEBRA-4471 and it opens the east archive."
BETA_FACT = "The beta vault code is OKAPI-9023 and it opens the west archive."
XSS_DOC = (b"# Canteen notes\n\nThe canteen opens at <script>window.__pwned = 1</script> seven "
           b"and ![tracker](https://tracker.example/pixel.png) serves "
           b"<img src=x onerror=\"window.__pwned = 2\"> soup daily.\n")
USERS = {  # name: (role, groups)
    "admin": ("admin", ("staff",)),
    "alice": ("user", ("alpha-team",)),
    "bob": ("user", ("beta-team",)),
    "carol": ("user", ("staff",)),
    "audrey": ("auditor", ("staff",)),
    "rita": ("reviewer", ("staff",)),
    "nobody": ("user", ()),
}


@dataclass
class World:
    app: object
    services: object
    fake: FakeGenerator
    data_dir: Path

    def user(self, name: str) -> WebUser:
        return WebUser(self.app, name, PASSWORD)

    def logged_in(self, name: str) -> WebUser:
        user = self.user(name)
        response = user.login()
        assert response.status_code == 303, response.get_data(as_text=True)
        return user


@pytest.fixture(scope="session")
def web_world(tmp_path_factory, embedder):
    from appliance.app import create_app
    from appliance.services import build_services

    data = tmp_path_factory.mktemp("web-data")
    settings = make_settings(data, login_max_failures=3, login_max_failures_per_address=6,
                             login_lockout_seconds=60, chat_queue_limit=6,
                             max_file_bytes=200_000,
                             # Tests ask faster than people do; test_web_openai checks limits.
                             api_requests_per_minute=0, api_chat_per_minute=0)
    services = build_services(settings)
    services.__dict__["embedder"] = embedder
    fake = FakeGenerator()
    services.__dict__["generator"] = fake
    access = services.accounts.access
    for group, collection, level in (("staff", "handbook", "write"), ("staff", "notes", "read"),
                                     ("alpha-team", "alpha", "write"),
                                     ("beta-team", "beta", "read")):
        if group not in {g.name for g in access.groups()}:
            access.create_group(None, group)
        access.set_grant(None, group, collection, level)
    for name, (role, groups) in USERS.items():
        services.accounts.create_user(None, name, role, PASSWORD, groups)
    report = services.ingest.ingest_paths([SAMPLES], "handbook", progress=False)
    assert not report.failed
    for name, body, collection in (("alpha.md", ALPHA_FACT, "alpha"),
                                   ("beta.md", BETA_FACT, "beta")):
        outcome = services.ingest.ingest_bytes(name, f"# Vault\n\n{body}\n".encode(), collection)
        assert outcome.status == "added", outcome
    assert services.ingest.ingest_bytes("canteen.md", XSS_DOC, "notes").status == "added"
    app = create_app(settings, services)
    yield World(app, services, fake, data)
    services.close()


@pytest.fixture
def world(web_world):
    web_world.fake.reset()
    yield web_world
    web_world.fake.reset()


@pytest.fixture(scope="session")
def live(tmp_path_factory, embedder, model_dir):
    """The real server: gunicorn, the real GGUF model, the samples in the default collection,
    an admin, a user `reader` with two API tokens (one to revoke) and a `treasurer` who also
    reads the finance collection (tokens[2])."""
    from appliance.services import build_services
    from livetools import start_server

    data = tmp_path_factory.mktemp("live-data")
    settings = make_settings(data, model_dir)
    services = build_services(settings)
    services.__dict__["embedder"] = embedder
    services.accounts.create_user(None, "admin", "admin", PASSWORD)
    access = services.accounts.access
    access.create_group(None, "staff")
    access.set_grant(None, "staff", "default", "write")
    access.set_member(None, "staff", "admin", True)
    services.accounts.create_user(None, "reader", "user", PASSWORD, ("staff",))
    services.accounts.create_user(None, "rita", "reviewer", PASSWORD, ("staff",))
    # The finance note: readable by the finance group only (the treasurer), not by `reader`.
    access.create_group(None, "finance")
    access.set_grant(None, "finance", "finance", "read")
    services.accounts.create_user(None, "treasurer", "user", PASSWORD, ("staff", "finance"))
    report = services.ingest.ingest_paths([SAMPLES], progress=False)
    assert not report.failed
    note = (Path(__file__).parents[1] / "data" / "finance-note.md").read_bytes()
    assert services.ingest.ingest_bytes("finance-note.md", note, "finance").status == "added"
    _, reader = services.accounts.sessions.login("reader", PASSWORD, "127.0.0.1")
    tokens = [services.accounts.tokens.create(reader, name)[0] for name in ("client", "doomed")]
    _, treasurer = services.accounts.sessions.login("treasurer", PASSWORD, "127.0.0.1")
    tokens.append(services.accounts.tokens.create(treasurer, "finance")[0])
    services.close()
    server = start_server(data, settings,
                          {"APPLIANCE_LLM_MODEL_PATH": str(settings.llm_model_path),
                           "APPLIANCE_WEB_THREADS": "24",
                           # Tests ask faster than people do (limits: test_web_openai).
                           "APPLIANCE_API_CHAT_PER_MINUTE": "0"})
    server.tokens = tokens
    yield server
    server.stop()
