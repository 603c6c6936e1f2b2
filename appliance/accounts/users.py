"""AccountService: users and roles, plus the parts that log people in and decide access.

    accounts.sessions   login (throttled), session lookup, logout, revocation  (accounts_auth)
    accounts.tokens     API tokens                                              (accounts_tokens)
    accounts.access     groups, collections, grants, readable(principal)       (accounts_access)

Roles: admin (users, groups, collections, documents everywhere), auditor (audit log and
policy), user (chat and the documents their groups may write). Reading documents always goes
through group grants, for every role.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import func, select

from ..audit import ACCOUNT_CREATE, ACCOUNT_UPDATE, ROLE_CHANGE
from ..errors import NotFoundError
from ..settings import Settings
from ..store import ROLES, GroupTable, MembershipTable, Store, UserTable
from .access import Access, actor_of, require_admin
from .errors import AccountError, AuthError
from .login import Passwords, Principal, Sessions
from .tokens import Tokens

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
FIRST_GROUP = "staff"


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str
    disabled: bool
    groups: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class Directory:
    """Everything the admin page lists."""

    users: list[UserInfo]
    groups: list
    collections: list
    roles: tuple[str, ...] = ROLES


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def new_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


class AccountService:
    """Users, roles and passwords; sessions, tokens and access as sub-services."""

    def __init__(self, settings: Settings, store: Store, audit):
        self.settings, self.store, self.audit = settings, store, audit
        self.passwords = Passwords()
        from .ldap_login import LdapLogin

        self.ldap = LdapLogin(settings)
        self.sessions = Sessions(settings, store, audit, self.passwords, self.ldap)
        self.tokens = Tokens(store, audit)
        self.access = Access(store, audit)

    # -- reading --------------------------------------------------------------------------
    def users(self) -> list[UserInfo]:
        with self.store.session() as sess:
            users = sess.scalars(select(UserTable).order_by(UserTable.username)).all()
            pairs = sess.execute(select(MembershipTable.user_id, GroupTable.name)
                                 .join(GroupTable, GroupTable.id == MembershipTable.group_id)
                                 .order_by(GroupTable.name)).all()
        return [UserInfo(u.id, u.username, u.role, u.disabled,
                         tuple(g for uid, g in pairs if uid == u.id), u.created_at)
                for u in users]

    def directory(self, principal: Principal | None) -> Directory:
        require_admin(principal)
        return Directory(self.users(), self.access.groups(), self.access.collections())

    def user(self, username: str) -> UserInfo:
        for info in self.users():
            if info.username == username:
                return info
        raise NotFoundError(f"no user named {username!r}")

    # -- changing -------------------------------------------------------------------------
    def create_user(self, actor: Principal | None, username: str, role: str = "user",
                    password: str | None = None, groups: tuple[str, ...] = (),
                    source: str | None = None) -> tuple[UserInfo, str | None]:
        """Create a user; returns the info and the generated password (None if one was given)."""
        require_admin(actor)
        username = (username or "").strip()
        if not USERNAME.match(username):
            raise AccountError(f"user name {username!r} must be 1-64 letters, digits or . _ @ -")
        self._check_role(role)
        generated = None if password else new_password()
        hashed = self.passwords.hash(check_password(password or generated))
        now = time.time()
        with self.store.session() as sess:
            if sess.scalars(select(UserTable).where(UserTable.username == username)).first():
                raise AccountError(f"user {username!r} already exists")
            sess.add(UserTable(username=username, password_hash=hashed, role=role,
                               disabled=False, created_at=now, password_changed_at=now))
        self.audit.record(ACCOUNT_CREATE, actor=actor_of(actor), target=f"user:{username}",
                          source=source, details={"role": role})
        for group in groups:
            self.access.set_member(actor, group, username, True, source)
        return self.user(username), generated

    def set_role(self, actor: Principal | None, username: str, role: str,
                 source: str | None = None) -> None:
        require_admin(actor)
        self._check_role(role)
        with self.store.session() as sess:
            user = self._row(sess, username)
            old = user.role
            if old == role:
                return
            if old == "admin":
                self._keep_an_admin(sess, user.id)
            user.role = role
        self.sessions.revoke_all(user.id, username, "role_change", actor_of(actor), source)
        self.audit.record(ROLE_CHANGE, actor=actor_of(actor), target=f"user:{username}",
                          source=source, details={"from": old, "to": role})

    def set_disabled(self, actor: Principal | None, username: str, disabled: bool,
                     source: str | None = None) -> None:
        """Disable (ends every session and stops every token at once) or enable a user."""
        require_admin(actor)
        with self.store.session() as sess:
            user = self._row(sess, username)
            if user.disabled == disabled:
                return
            if disabled and user.role == "admin":
                self._keep_an_admin(sess, user.id)
            user.disabled = disabled
            user_id = user.id
        if disabled:
            self.sessions.revoke_all(user_id, username, "disabled", actor_of(actor), source)
        self.audit.record(ACCOUNT_UPDATE, actor=actor_of(actor), target=f"user:{username}",
                          source=source,
                          details={"action": "disable" if disabled else "enable"})

    def reset_password(self, actor: Principal | None, username: str,
                       password: str | None = None, source: str | None = None) -> str | None:
        """Set a user's password (generated when not given); ends their sessions."""
        require_admin(actor)
        generated = None if password else new_password()
        self._store_password(username, password or generated)
        self._after_password(username, actor_of(actor), "password_reset", source)
        return generated

    def change_password(self, principal: Principal, old: str, new: str,
                        address: str | None = None, request_id: str | None = None
                        ) -> tuple[str, Principal]:
        """The caller changes their own password: every session ends, a new one opens."""
        with self.store.session() as sess:
            stored = self._row(sess, principal.username).password_hash
        if not self.passwords.verify(stored, old):
            raise AuthError("the current password is wrong")
        if old == new:
            raise AccountError("the new password must differ from the current one")
        self._store_password(principal.username, new)
        self._after_password(principal.username, principal.username, "password_change", address)
        return self.sessions.open(principal.user_id, address or "", request_id)

    def ensure_first_admin(self) -> tuple[str, str | None] | None:
        """At `init`: create the first admin (and a `staff` group reading the default
        collection) when no admin exists. Returns (name, generated password or None)."""
        with self.store.session() as sess:
            if sess.scalars(select(UserTable).where(UserTable.role == "admin")).first():
                return None
        name = self.settings.admin_username
        info, generated = self.create_user(None, name, "admin",
                                           self.settings.admin_password or None)
        if FIRST_GROUP not in {g.name for g in self.access.groups()}:
            self.access.create_group(None, FIRST_GROUP, "everyone on the appliance")
        self.access.set_grant(None, FIRST_GROUP, self.settings.default_collection, "write")
        self.access.set_member(None, FIRST_GROUP, info.username, True)
        return info.username, generated

    # -- helpers --------------------------------------------------------------------------
    def _store_password(self, username: str, password: str) -> None:
        hashed = self.passwords.hash(check_password(password))
        with self.store.session() as sess:
            user = self._row(sess, username)
            if user.auth_source == "ldap":
                raise AccountError(f"{username}'s password is kept by the directory (LDAP): "
                                   "change it there")
            user.password_hash = hashed
            user.password_changed_at = time.time()

    def _after_password(self, username: str, actor: str, action: str,
                        source: str | None) -> None:
        with self.store.session() as sess:
            user_id = self._row(sess, username).id
        self.sessions.revoke_all(user_id, username, action, actor, source)
        self.audit.record(ACCOUNT_UPDATE, actor=actor, target=f"user:{username}", source=source,
                          details={"action": action})

    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")

    @staticmethod
    def _row(sess, username: str) -> UserTable:
        user = sess.scalars(select(UserTable).where(UserTable.username == username)).first()
        if user is None:
            raise NotFoundError(f"no user named {username!r}")
        return user

    @staticmethod
    def _keep_an_admin(sess, leaving_id: int) -> None:
        others = sess.scalar(select(func.count()).select_from(UserTable).where(
            UserTable.role == "admin", UserTable.id != leaving_id,
            UserTable.disabled.is_(False)))
        if not others:
            raise AccountError("that would leave no active administrator")
