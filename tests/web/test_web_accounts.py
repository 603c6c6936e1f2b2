"""AccountService: argon2id hashes, sessions that end at once, throttling, tokens, roles."""
import time

import pytest
from sqlalchemy import select

from appliance.accounts.errors import AccountError, AuthError, PermissionDenied, Throttled
from appliance.store.account_tables import ApiTokenTable, SessionTable, UserTable

PW = "a perfectly long password"


@pytest.fixture
def accounts(app_factory):
    app = app_factory(login_max_failures=3, login_max_failures_per_address=5,
                      login_lockout_seconds=60)
    return app


def _events(app, kind):
    return [e for e in app.audit.events() if e.type == kind]


def test_passwords_are_argon2id_and_never_stored_plain(accounts):
    accounts.accounts.create_user(None, "ann", "user", PW)
    with accounts.store.session() as sess:
        stored = sess.scalars(select(UserTable.password_hash)).one()
    assert stored.startswith("$argon2id$") and PW not in stored
    with pytest.raises(AccountError, match="12"):
        accounts.accounts.create_user(None, "short", "user", "tiny")


def test_first_admin_is_created_once_with_a_generated_password(accounts):
    name, password = accounts.accounts.ensure_first_admin()
    assert name == "admin" and len(password) >= 16
    token, who = accounts.accounts.sessions.login("admin", password, "127.0.0.1")
    assert who.is_admin and accounts.accounts.access.readable(who) == {"default"}
    assert accounts.accounts.ensure_first_admin() is None
    assert [e.target for e in _events(accounts, "account.create")] == ["user:admin"]


def test_logout_password_change_and_disable_end_sessions_at_once(accounts):
    acc = accounts.accounts
    acc.create_user(None, "ann", "user", PW)
    t1, p1 = acc.sessions.login("ann", PW, "10.1.1.1")
    acc.sessions.logout(p1)
    assert acc.sessions.principal(t1) is None  # replaying the cookie after logout fails

    t2, p2 = acc.sessions.login("ann", PW, "10.1.1.1")
    t3, _ = acc.sessions.login("ann", PW, "10.1.1.2")
    t4, p4 = acc.change_password(p2, PW, PW + "!")
    assert acc.sessions.principal(t2) is None and acc.sessions.principal(t3) is None
    assert acc.sessions.principal(t4).username == "ann"

    acc.set_disabled(None, "ann", True)
    assert acc.sessions.principal(t4) is None
    with pytest.raises(AuthError):
        acc.sessions.login("ann", PW + "!", "10.1.1.1")
    kinds = [e.type for e in accounts.audit.events()]
    assert "auth.logout" in kinds and kinds.count("auth.session.revoked") == 2


def test_idle_and_expired_sessions_end(accounts):
    acc = accounts.accounts
    acc.create_user(None, "ann", "user", PW)
    token, who = acc.sessions.login("ann", PW, "10.1.1.1")
    with accounts.store.session() as sess:
        sess.get(SessionTable, who.session_id).last_seen_at = time.time() - 31 * 60
    assert acc.sessions.principal(token) is None


def test_throttling_per_account_then_per_address(accounts):
    acc = accounts.accounts
    acc.create_user(None, "ann", "user", PW)
    acc.create_user(None, "ben", "user", PW)
    for _ in range(3):
        with pytest.raises(AuthError):
            acc.sessions.login("ann", "wrong password!", "10.2.2.2")
    with pytest.raises(Throttled) as caught:  # even the right password is refused now
        acc.sessions.login("ann", PW, "10.9.9.9")
    assert 1 <= caught.value.retry_after <= 60
    acc.sessions.login("ben", PW, "10.2.2.3")  # other accounts are unaffected
    for _ in range(2):  # the address has 3 failures; 5 locks it for every account
        with pytest.raises(AuthError):
            acc.sessions.login("nobody-such", "x" * 12, "10.2.2.2")
    with pytest.raises(Throttled):
        acc.sessions.login("ben", PW, "10.2.2.2")
    reasons = [e.details for e in _events(accounts, "auth.login.failure")]
    assert any('"throttled"' in d for d in reasons) and any('"unknown_user"' in d for d in reasons)


def test_tokens_are_stored_hashed_scoped_and_revocable(accounts):
    acc = accounts.accounts
    acc.create_user(None, "ann", "user", PW)
    _, who = acc.sessions.login("ann", PW, "10.1.1.1")
    secret, info = acc.tokens.create(who, "laptop")
    assert secret.startswith("apl_") and info.prefix == secret[:8]
    with accounts.store.session() as sess:
        stored = sess.scalars(select(ApiTokenTable.token_hash)).one()
    assert secret not in stored and len(stored) == 64
    assert acc.tokens.principal(secret).username == "ann"
    acc.tokens.revoke(who, info.id)
    assert acc.tokens.principal(secret) is None
    secret2, _ = acc.tokens.create(who, "again")
    acc.set_disabled(None, "ann", True)
    assert acc.tokens.principal(secret2) is None  # a disabled user's tokens stop too


def test_roles_guard_admin_actions_and_the_last_admin(accounts):
    acc = accounts.accounts
    acc.create_user(None, "root", "admin", PW)
    acc.create_user(None, "ann", "user", PW)
    _, ann = acc.sessions.login("ann", PW, "10.1.1.1")
    with pytest.raises(PermissionDenied):
        acc.create_user(ann, "eve", "admin", PW)
    with pytest.raises(PermissionDenied):
        acc.access.set_grant(ann, "g", "c", "read")
    with pytest.raises(AccountError, match="no active administrator"):
        acc.set_role(None, "root", "user")
    acc.set_role(None, "ann", "auditor")
    assert [e.details for e in _events(accounts, "account.role.change")] == \
        ['{"from":"user","to":"auditor"}']


def test_readable_collections_come_only_from_group_grants(accounts):
    acc = accounts.accounts
    acc.create_user(None, "root", "admin", PW)
    _, root = acc.sessions.login("root", PW, "10.1.1.1")
    assert acc.access.readable(root) == frozenset()  # admins read through groups too
    acc.access.create_group(None, "team")
    acc.access.set_grant(None, "team", "alpha", "read")
    acc.access.set_member(None, "team", "root", True)
    assert acc.access.readable(root) == {"alpha"}
    acc.access.set_grant(None, "team", "alpha", "none")
    assert acc.access.readable(root) == frozenset()
