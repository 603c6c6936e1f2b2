"""Logging in: argon2id passwords, login throttling, server-side web sessions.

A session cookie holds a random token; the store keeps only its sha256, so a copy of the
database cannot be replayed as a cookie. Logout, a password change and disabling the account
delete the rows, which ends the session on every worker at its next request.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from ..audit import LOGIN_FAILURE, LOGIN_SUCCESS, LOGOUT, SESSION_REVOKED
from ..settings import Settings
from ..store import SessionTable, Store, ThrottleTable, UserTable
from .errors import AuthError, Throttled

LAST_SEEN_EVERY = 60.0  # seconds between last_seen writes: one write a minute, not per request
BAD_LOGIN = "wrong username or password"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, through a web session or an API token."""

    user_id: int
    username: str
    role: str
    via: str  # "session" | "token" | "cli"
    session_id: str | None = None
    csrf_token: str | None = None
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_audit(self) -> bool:
        return self.role in ("admin", "auditor")

    @property
    def can_review(self) -> bool:
        """Label answers in the review queue and see the quality audit."""
        return self.role in ("admin", "reviewer")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Passwords:
    """argon2id hashing (argon2-cffi's RFC 9106 low-memory profile)."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Constant work whether or not the user exists (a dummy hash stands in)."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


class Sessions:
    """Login with throttling, session lookup, logout and revocation."""

    def __init__(self, settings: Settings, store: Store, audit, passwords: Passwords,
                 directory=None):
        self.settings, self.store, self.audit, self.passwords = settings, store, audit, passwords
        self.directory = directory  # LDAP, when configured (ldap_login.py)

    # -- login ---------------------------------------------------------------------------
    def login(self, username: str, password: str, address: str,
              request_id: str | None = None) -> tuple[str, Principal]:
        """Check credentials and open a session; returns (cookie token, principal)."""
        now = time.time()
        keys = [f"user:{username.strip().lower()}"[:200], f"addr:{address}"[:200]]
        self._refuse_if_locked(keys, now, username, address, request_id)
        with self.store.session() as sess:
            user = sess.scalars(select(UserTable)
                                .where(UserTable.username == username.strip())).first()
            stored = user.password_hash if user is not None else None
        directory = self.directory is not None and self.directory.enabled and (
            user is None or user.auth_source == "ldap")
        if directory:  # a name the directory manages: only the directory decides
            user, reason = self._ask_directory(username.strip(), password)
        else:
            ok = self.passwords.verify(stored, password)
            reason = None
            if not ok:
                reason = "bad_password" if user is not None else "unknown_user"
        if reason is None and user.disabled:
            reason = "disabled"
        via = {"via": "ldap"} if directory else {}
        if reason is not None:
            self._count_failure(keys, now)
            self.audit.record(LOGIN_FAILURE, actor=username.strip()[:64], source=address,
                              outcome="failure", request_id=request_id,
                              details={"reason": reason, **via})
            if reason == "directory_unreachable":
                raise AuthError("the directory cannot be reached; try again later")
            raise AuthError(BAD_LOGIN)
        with self.store.session() as sess:
            sess.execute(delete(ThrottleTable).where(ThrottleTable.key == keys[0]))
            if not directory and self.passwords.needs_rehash(user.password_hash):
                sess.get(UserTable, user.id).password_hash = self.passwords.hash(password)
        token, principal = self.open(user.id, address)
        self.audit.record(LOGIN_SUCCESS, actor=user.username, source=address,
                          request_id=request_id,
                          details={"session": principal.session_id[:16], **via})
        return token, principal

    def _ask_directory(self, username: str, password: str):
        """(the synced local account or None, the refusal reason or None)."""
        from .ldap_login import DirectoryRefused

        try:
            found = self.directory.authenticate(username, password)
        except DirectoryRefused as refused:
            return None, refused.reason
        with self.store.session() as sess:
            row, events = self.directory.sync(sess, found)
            sess.flush()
            sess.expunge(row)
        for event, details in events:  # after the commit: SQLite has one writer at a time
            self.audit.record(event, actor="directory", target=f"user:{username}",
                              details=details)
        return row, None

    def open(self, user_id: int, address: str, request_id: str | None = None
             ) -> tuple[str, Principal]:
        """A new session for an authenticated user; returns (cookie token, principal)."""
        token, now = secrets.token_urlsafe(32), time.time()
        with self.store.session() as sess:
            user = sess.get(UserTable, user_id)
            row = SessionTable(id=sha256_hex(token), user_id=user_id,
                               csrf_token=secrets.token_urlsafe(32), created_at=now,
                               last_seen_at=now, expires_at=now + self._max_age(),
                               address=(address or "")[:64])
            sess.add(row)
            principal = Principal(user.id, user.username, user.role, "session", row.id,
                                  row.csrf_token)
        return token, principal

    def _max_age(self) -> float:
        return self.settings.session_max_hours * 3600.0

    def _refuse_if_locked(self, keys: list[str], now: float, username: str, address: str,
                          request_id: str | None) -> None:
        with self.store.session() as sess:
            rows = sess.scalars(select(ThrottleTable).where(ThrottleTable.key.in_(keys))).all()
            until = max((r.locked_until or 0.0 for r in rows), default=0.0)
        if until > now:
            self.audit.record(LOGIN_FAILURE, actor=username.strip()[:64], source=address,
                              outcome="denied", request_id=request_id,
                              details={"reason": "throttled"})
            raise Throttled("too many failed logins; try again later", int(until - now) + 1)

    def _count_failure(self, keys: list[str], now: float) -> None:
        window = float(self.settings.login_lockout_seconds)
        limits = {keys[0]: self.settings.login_max_failures,
                  keys[1]: self.settings.login_max_failures_per_address}
        with self.store.session() as sess:
            for key in keys:
                row = sess.get(ThrottleTable, key)
                if row is None:
                    row = ThrottleTable(key=key, failures=0, window_start=now)
                    sess.add(row)
                if now - row.window_start > window:
                    row.failures, row.window_start, row.locked_until = 0, now, None
                row.failures += 1
                if row.failures >= limits[key]:
                    row.locked_until = now + window

    # -- sessions ------------------------------------------------------------------------
    def principal(self, token: str | None) -> Principal | None:
        """The session's principal, or None when missing, expired, idle or revoked."""
        if not token or len(token) > 128:
            return None
        now = time.time()
        sid = sha256_hex(token)
        idle = self.settings.session_idle_minutes * 60.0
        with self.store.session() as sess:
            row = sess.get(SessionTable, sid)
            if row is None:
                return None
            user = sess.get(UserTable, row.user_id)
            if row.expires_at <= now or now - row.last_seen_at > idle or user is None \
                    or user.disabled:
                sess.delete(row)
                return None
            if now - row.last_seen_at > LAST_SEEN_EVERY:
                row.last_seen_at = now
            return Principal(user.id, user.username, user.role, "session", sid, row.csrf_token)

    def logout(self, principal: Principal, address: str | None = None,
               request_id: str | None = None) -> None:
        if principal.session_id is None:
            return
        with self.store.session() as sess:
            sess.execute(delete(SessionTable).where(SessionTable.id == principal.session_id))
        self.audit.record(LOGOUT, actor=principal.username, source=address,
                          request_id=request_id, details={"session": principal.session_id[:16]})

    def revoke_all(self, user_id: int, username: str, reason: str, actor: str | None,
                   address: str | None = None, request_id: str | None = None) -> int:
        """End every session of a user now; recorded when any was open."""
        with self.store.session() as sess:
            count = sess.execute(delete(SessionTable)
                                 .where(SessionTable.user_id == user_id)).rowcount or 0
        if count:
            self.audit.record(SESSION_REVOKED, actor=actor, target=f"user:{username}",
                              source=address, request_id=request_id,
                              details={"reason": reason, "sessions": count})
        return count

    @staticmethod
    def csrf_ok(principal: Principal | None, supplied: str | None) -> bool:
        if principal is None or not principal.csrf_token or not supplied:
            return False
        return hmac.compare_digest(principal.csrf_token, supplied)
