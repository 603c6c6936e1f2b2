"""Directory login against a real OpenLDAP slapd on loopback: bind as the user, map groups
and roles, refuse wrong passwords and disabled directory users (throttled and audited like
local ones), keep local break-glass accounts working, and stop at a dead directory."""
import json

import pytest
from sqlalchemy import select

from appliance.accounts.errors import AccountError, AuthError, Throttled
from appliance.store import UserTable
from ldaptools import PASSWORDS, start_slapd


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    d = start_slapd(tmp_path_factory.mktemp("slapd"))
    yield d
    d.stop()


@pytest.fixture
def accounts(directory, tmp_path):
    from appliance.services import build_services

    from helpers import make_settings

    app = build_services(make_settings(tmp_path / "data", **directory.settings(),
                                       login_max_failures=3))
    app.accounts.ensure_first_admin()
    yield app
    app.close()


def groups_of(app, name):
    return sorted(g.name for g in app.accounts.access.groups() if name in g.members)


def test_a_directory_user_logs_in_with_mapped_groups_and_role(accounts):
    _, nina = accounts.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.1")
    assert nina.role == "user" and groups_of(accounts, "nina") == ["ward"]
    _, omar = accounts.accounts.sessions.login("omar", PASSWORDS["omar"], "10.0.0.1")
    assert omar.role == "admin" and groups_of(accounts, "omar") == ["it"]
    _, ivan = accounts.accounts.sessions.login("ivan", PASSWORDS["ivan"], "10.0.0.1")
    assert ivan.role == "auditor"
    with accounts.store.session() as sess:
        row = sess.scalars(select(UserTable).where(UserTable.username == "nina")).one()
        assert row.auth_source == "ldap" and not row.password_hash.startswith("$argon2")
    events = [(e.type, e.actor, e.details) for e in accounts.audit.events()]
    assert ("auth.login.success", "nina") in [(t, a) for t, a, _ in events]
    assert any(t == "account.create" and '"source":"ldap"' in d.replace(" ", "")
               for t, _, d in events)
    # the directory keeps the password: the appliance will not set one
    with pytest.raises(AccountError, match="kept by the directory"):
        accounts.accounts.reset_password(None, "nina", "another-password-123")


def test_wrong_password_disabled_user_and_throttling(accounts):
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.accounts.sessions.login("nina", "not-her-password", "10.0.0.2")
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.accounts.sessions.login("nina", "", "10.0.0.2")  # no anonymous bind
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.accounts.sessions.login("dora", PASSWORDS["dora"], "10.0.0.2")  # disabled
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.accounts.sessions.login("nobody-here", "whatever-pass", "10.0.0.3")
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.accounts.sessions.login("nina)(uid=*", "x", "10.0.0.3")  # injection
    with pytest.raises(AuthError, match="wrong username or password"):
        accounts.accounts.sessions.login("nina", "still-not-it", "10.0.0.3")
    with pytest.raises(Throttled):  # 3 failures for nina: locked like a local account
        accounts.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.4")
    reasons = [e.details for e in accounts.audit.events() if e.type == "auth.login.failure"]
    assert any('"reason":"disabled"' in r.replace(" ", "") for r in reasons)
    assert all('"via":"ldap"' in r.replace(" ", "") for r in reasons
               if '"throttled"' not in r)


def test_local_break_glass_admin_still_logs_in(accounts):
    accounts.accounts.reset_password(None, "admin", "break-glass-password-1")
    _, admin = accounts.accounts.sessions.login("admin", "break-glass-password-1", "10.0.0.5")
    assert admin.role == "admin"


def test_a_dead_directory_refuses_with_a_clear_message(tmp_path):
    from appliance.services import build_services

    from helpers import make_settings

    app = build_services(make_settings(
        tmp_path / "data", ldap_url="ldap://127.0.0.1:9", ldap_timeout_seconds=2,
        ldap_user_dn="uid={username},ou=people,dc=example,dc=org"))
    try:
        with pytest.raises(AuthError, match="directory cannot be reached"):
            app.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.6")
    finally:
        app.close()


def test_group_removal_in_the_directory_reaches_the_appliance(accounts, directory):
    import subprocess

    accounts.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.7")
    assert groups_of(accounts, "nina") == ["ward"]
    ldif = ("dn: cn=ward-nurses,ou=groups,dc=example,dc=org\nchangetype: modify\n"
            "delete: member\nmember: uid=nina,ou=people,dc=example,dc=org\n")
    out = subprocess.run(["ldapmodify", "-x", "-H", directory.url, "-D",
                          "cn=admin,dc=example,dc=org", "-w", "admin-secret"], input=ldif,
                         text=True, capture_output=True)
    assert out.returncode == 0, out.stderr
    try:
        accounts.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.7")
        assert groups_of(accounts, "nina") == []
    finally:
        ldif = ldif.replace("delete: member", "add: member")
        subprocess.run(["ldapmodify", "-x", "-H", directory.url, "-D",
                        "cn=admin,dc=example,dc=org", "-w", "admin-secret"], input=ldif,
                       text=True, capture_output=True)


def test_the_web_login_page_takes_directory_users(accounts):
    from appliance.app import create_app
    from web.webtools import WebUser

    app = create_app(accounts.settings, accounts)
    nina = WebUser(app, "nina", PASSWORDS["nina"])
    assert nina.login().status_code == 303  # to the chat
    assert nina.get("/chat").status_code == 200
    assert nina.get("/admin").status_code == 403  # a user, not an admin
    dora = WebUser(app, "dora", PASSWORDS["dora"])
    refused = dora.login()
    assert refused.status_code in (401, 400) and "wrong username or password" in refused.text
    omar = WebUser(app, "omar", PASSWORDS["omar"])
    assert omar.login().status_code == 303 and omar.get("/admin").status_code == 200


@pytest.fixture(scope="module")
def tls_directory(tmp_path_factory):
    d = start_slapd(tmp_path_factory.mktemp("slapd-tls"), tls=True)
    yield d
    d.stop()


def _directory_app(tmp_path, directory, **kw):
    from appliance.services import build_services

    from helpers import make_settings

    return build_services(make_settings(tmp_path / "data", **directory.settings(**kw)))


def test_starttls_and_ldaps_with_the_directory_ca_file(tls_directory, tmp_path):
    for url, start_tls in ((tls_directory.url, True), (tls_directory.ldaps_url, False)):
        app = _directory_app(tmp_path / url.split(":")[0], tls_directory, ldap_url=url,
                             ldap_start_tls=start_tls, ldap_ca_file=tls_directory.ca_file)
        try:
            _, who = app.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.5", None)
            assert who.username == "nina"
        finally:
            app.close()


def test_a_directory_certificate_from_another_ca_is_refused(tls_directory, tmp_path):
    from ldaptools import make_ca

    other_ca, _, _ = make_ca(tmp_path / "other", "impostor")
    for url, start_tls in ((tls_directory.url, True), (tls_directory.ldaps_url, False)):
        app = _directory_app(tmp_path / url.split(":")[0], tls_directory, ldap_url=url,
                             ldap_start_tls=start_tls, ldap_ca_file=str(other_ca))
        try:
            with pytest.raises(AuthError, match="directory cannot be reached"):
                app.accounts.sessions.login("nina", PASSWORDS["nina"], "10.0.0.5", None)
            with app.store.session() as sess:  # no account was made from an unverified peer
                assert sess.scalars(select(UserTable).where(UserTable.username == "nina")
                                    ).first() is None
            [event] = [e for e in app.audit.events() if e.type == "auth.login.failure"]
            details = event.details if isinstance(event.details, dict) else \
                json.loads(event.details)
            assert details["reason"] == "directory_unreachable"
        finally:
            app.close()
