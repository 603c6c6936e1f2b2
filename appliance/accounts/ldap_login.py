"""Directory login (LDAP, through ldap3): bind as the user, read their groups, and keep a
local account in step with the directory (role and mapped groups, at every login).

Local accounts still log in with their own passwords (break-glass administrators); a name the
directory manages logs in only against the directory. Failures are throttled and audited by
the caller (login.py) exactly like local ones.
"""
from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

from sqlalchemy import select

from ..audit import ACCOUNT_CREATE, ACCOUNT_UPDATE, ROLE_CHANGE
from ..settings import Settings
from ..store import GroupTable, MembershipTable, UserTable

DIRECTORY_PASSWORD = "!directory"  # not an argon2 hash: no local password ever matches it
ROLE_ORDER = ("admin", "auditor", "reviewer", "user")  # the strongest mapped role wins


class DirectoryRefused(Exception):
    """The directory said no (or could not be asked); `reason` goes to the audit log."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True)
class DirectoryUser:
    username: str
    dn: str
    groups: frozenset[str]  # the cn of every directory group the user is a member of


class LdapLogin:
    """One LDAP server, as the ldap_* settings describe it."""

    def __init__(self, settings: Settings):
        self.s = settings

    @property
    def enabled(self) -> bool:
        return bool(self.s.ldap_url)

    def authenticate(self, username: str, password: str) -> DirectoryUser:
        import ldap3
        from ldap3.core.exceptions import LDAPException
        from ldap3.utils.conv import escape_filter_chars
        from ldap3.utils.dn import escape_rdn

        if not password:  # an empty password is an anonymous bind: it "succeeds"
            raise DirectoryRefused("bad_password")
        dn = self.s.ldap_user_dn.format(username=escape_rdn(username))
        conn = ldap3.Connection(self._server(), user=dn, password=password,
                                receive_timeout=self.s.ldap_timeout_seconds, read_only=True,
                                raise_exceptions=False)
        try:
            conn.open()
            if self.s.ldap_start_tls and not conn.start_tls():
                raise DirectoryRefused("directory_tls", "StartTLS was refused")
            if not conn.bind():
                raise DirectoryRefused("bad_password")  # unknown user and wrong password alike
            conn.search(dn, self.s.ldap_user_filter, ldap3.BASE, attributes=["cn"])
            if not conn.entries:
                raise DirectoryRefused("disabled")
            groups: set[str] = set()
            if self.s.ldap_group_base:
                flt = self.s.ldap_group_filter.format(dn=escape_filter_chars(dn),
                                                      username=escape_filter_chars(username))
                conn.search(self.s.ldap_group_base, flt, ldap3.SUBTREE, attributes=["cn"])
                groups = {str(v) for e in conn.entries for v in e.cn.values}
            return DirectoryUser(username, dn, frozenset(groups))
        except LDAPException as exc:
            raise DirectoryRefused("directory_unreachable", str(exc)) from None
        finally:
            try:
                conn.unbind()
            except LDAPException:  # the socket is gone already (a failed TLS handshake)
                pass

    def _server(self):
        import ldap3

        tls = None
        secure = self.s.ldap_url.lower().startswith("ldaps://") or self.s.ldap_start_tls
        if secure:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.s.ldap_ca_file or None,
                            version=ssl.PROTOCOL_TLS_CLIENT)
        return ldap3.Server(self.s.ldap_url, get_info=ldap3.NONE, tls=tls,
                            connect_timeout=self.s.ldap_timeout_seconds)

    # -- the local account ---------------------------------------------------------------
    def role_for(self, user: DirectoryUser) -> str:
        roles = {role for group, role in self.s.ldap_roles.items() if group in user.groups}
        return next((r for r in ROLE_ORDER if r in roles), "user")

    def sync(self, sess, user: DirectoryUser) -> tuple[UserTable, list[tuple]]:
        """Create or update the user's local account from the directory: role and the
        appliance groups the group map names (others are left as an admin set them).
        Returns the row and the audit events to record once the session has committed."""
        now = time.time()
        events: list[tuple] = []
        row = sess.scalars(select(UserTable).where(UserTable.username == user.username)).first()
        role = self.role_for(user)
        if row is None:
            row = UserTable(username=user.username, password_hash=DIRECTORY_PASSWORD, role=role,
                            disabled=False, created_at=now, password_changed_at=now,
                            auth_source="ldap")
            sess.add(row)
            sess.flush()
            events.append((ACCOUNT_CREATE, {"role": role, "source": "ldap"}))
        elif row.role != role:
            events.append((ROLE_CHANGE, {"from": row.role, "to": role, "source": "ldap"}))
            row.role = role
        wanted = {g for d, g in self.s.ldap_groups.items() if d in user.groups}
        managed = set(self.s.ldap_groups.values())
        have = {g.name: g for g in sess.scalars(select(GroupTable).where(
            GroupTable.name.in_(sorted(managed))))}
        mine = set(sess.scalars(select(MembershipTable.group_id).where(
            MembershipTable.user_id == row.id)))
        added, removed = [], []
        for name in sorted(managed):
            group = have.get(name)
            if group is None and name in wanted:
                group = GroupTable(name=name, description="mapped from the directory")
                sess.add(group)
                sess.flush()
            if group is None:
                continue
            if name in wanted and group.id not in mine:
                sess.add(MembershipTable(user_id=row.id, group_id=group.id))
                added.append(name)
            elif name not in wanted and group.id in mine:
                sess.delete(sess.get(MembershipTable, (row.id, group.id)))
                removed.append(name)
        if added or removed:
            events.append((ACCOUNT_UPDATE, {"groups_added": added, "groups_removed": removed,
                                            "source": "ldap"}))
        return row, events
