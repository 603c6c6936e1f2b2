"""Access control data: groups, their members, collections and which groups may read them.

Every role reads documents only through its groups (an admin grants itself a collection like
anyone else, and that is audited); admins manage documents in every collection by name.
`readable(principal)` is what the web and API layers pass to retrieval.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from ..audit import ACCOUNT_UPDATE
from ..errors import NotFoundError
from ..store import (
    CollectionTable,
    DocumentTable,
    GrantTable,
    GroupTable,
    MembershipTable,
    Store,
    UserTable,
)
from .errors import AccountError, PermissionDenied
from .login import Principal

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ACCESS = ("none", "read", "write")


@dataclass(frozen=True)
class GroupInfo:
    name: str
    description: str
    members: tuple[str, ...]
    grants: dict[str, str] = field(default_factory=dict)  # collection -> read|write


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    description: str
    documents: int
    grants: dict[str, str] = field(default_factory=dict)  # group -> read|write


def check_name(kind: str, name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise AccountError(f"{kind} name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return name


def actor_of(principal: Principal | None) -> str:
    return principal.username if principal is not None else "cli"


def require_admin(principal: Principal | None) -> None:
    """None is the operator at the CLI on the box itself: unrestricted."""
    if principal is not None and not principal.is_admin:
        raise PermissionDenied("only an administrator may do that")


def require_audit(principal: Principal | None) -> None:
    if principal is not None and not principal.can_audit:
        raise PermissionDenied("only an auditor or administrator may do that")


class Access:
    """Groups, collections, grants, and the collections a caller may read or write."""

    def __init__(self, store: Store, audit):
        self.store, self.audit = store, audit

    # -- questions retrieval asks ---------------------------------------------------------
    def readable(self, principal: Principal) -> frozenset[str]:
        """Collections the caller's groups may read (never None: "all" is not an answer here)."""
        stmt = (select(GrantTable.collection)
                .join(MembershipTable, MembershipTable.group_id == GrantTable.group_id)
                .where(MembershipTable.user_id == principal.user_id))
        with self.store.session() as sess:
            return frozenset(sess.scalars(stmt).all())

    def writable(self, principal: Principal) -> frozenset[str]:
        """Collections the caller may upload to and delete from (admins: all of them)."""
        if principal.is_admin:
            return frozenset(c.name for c in self.collections())
        stmt = (select(GrantTable.collection)
                .join(MembershipTable, MembershipTable.group_id == GrantTable.group_id)
                .where(MembershipTable.user_id == principal.user_id, GrantTable.can_write))
        with self.store.session() as sess:
            return frozenset(sess.scalars(stmt).all())

    # -- groups ---------------------------------------------------------------------------
    def groups(self) -> list[GroupInfo]:
        with self.store.session() as sess:
            groups = sess.scalars(select(GroupTable).order_by(GroupTable.name)).all()
            members = sess.execute(select(MembershipTable.group_id, UserTable.username)
                                   .join(UserTable, UserTable.id == MembershipTable.user_id)
                                   .order_by(UserTable.username)).all()
            grants = sess.execute(select(GrantTable.group_id, GrantTable.collection,
                                         GrantTable.can_write)).all()
        return [GroupInfo(g.name, g.description,
                          tuple(u for gid, u in members if gid == g.id),
                          {c: "write" if w else "read" for gid, c, w in grants if gid == g.id})
                for g in groups]

    def create_group(self, actor: Principal | None, name: str, description: str = "",
                     source: str | None = None) -> None:
        require_admin(actor)
        name = check_name("group", name)
        with self.store.session() as sess:
            if sess.scalars(select(GroupTable).where(GroupTable.name == name)).first():
                raise AccountError(f"group {name!r} already exists")
            sess.add(GroupTable(name=name, description=(description or "")[:255]))
        self._record(actor, f"group:{name}", {"action": "group_create"}, source)

    def delete_group(self, actor: Principal | None, name: str, source: str | None = None) -> None:
        require_admin(actor)
        with self.store.session() as sess:
            sess.delete(self._group(sess, name))
        self._record(actor, f"group:{name}", {"action": "group_delete"}, source)

    def set_member(self, actor: Principal | None, group: str, username: str, member: bool,
                   source: str | None = None) -> None:
        require_admin(actor)
        with self.store.session() as sess:
            gid = self._group(sess, group).id
            user = sess.scalars(select(UserTable).where(UserTable.username == username)).first()
            if user is None:
                raise NotFoundError(f"no user named {username!r}")
            existing = sess.get(MembershipTable, (user.id, gid))
            if member and existing is None:
                sess.add(MembershipTable(user_id=user.id, group_id=gid))
            elif not member and existing is not None:
                sess.delete(existing)
            else:
                return
        self._record(actor, f"user:{username}",
                     {"action": "group_add" if member else "group_remove", "group": group},
                     source)

    # -- collections and grants -----------------------------------------------------------
    def collections(self) -> list[CollectionInfo]:
        """Named collections plus any collection that holds documents."""
        with self.store.session() as sess:
            named = {c.name: c.description for c in sess.scalars(select(CollectionTable))}
            counts = dict(sess.execute(select(DocumentTable.collection, func.count())
                                       .group_by(DocumentTable.collection)).all())
            grants = sess.execute(select(GrantTable.collection, GroupTable.name,
                                         GrantTable.can_write)
                                  .join(GroupTable, GroupTable.id == GrantTable.group_id)).all()
        names = sorted(set(named) | set(counts))
        return [CollectionInfo(n, named.get(n, ""), counts.get(n, 0),
                               {g: "write" if w else "read" for c, g, w in grants if c == n})
                for n in names]

    def ensure_collection(self, name: str, description: str = "") -> str:
        name = check_name("collection", name)
        with self.store.session() as sess:
            if sess.get(CollectionTable, name) is None:
                sess.add(CollectionTable(name=name, description=description[:255],
                                         created_at=time.time()))
        return name

    def create_collection(self, actor: Principal | None, name: str, description: str = "",
                          source: str | None = None) -> None:
        require_admin(actor)
        name = check_name("collection", name)
        if any(c.name == name for c in self.collections()):
            raise AccountError(f"collection {name!r} already exists")
        self.ensure_collection(name, description or "")
        self._record(actor, f"collection:{name}", {"action": "collection_create"}, source)

    def set_grant(self, actor: Principal | None, group: str, collection: str, access: str,
                  source: str | None = None) -> None:
        """Give `group` none, read or write access to `collection`."""
        require_admin(actor)
        if access not in ACCESS:
            raise AccountError(f"access must be one of {', '.join(ACCESS)}, not {access!r}")
        collection = self.ensure_collection(collection)
        with self.store.session() as sess:
            gid = self._group(sess, group).id
            row = sess.get(GrantTable, (gid, collection))
            if access == "none":
                if row is not None:
                    sess.delete(row)
            elif row is None:
                sess.add(GrantTable(group_id=gid, collection=collection,
                                    can_write=access == "write"))
            else:
                row.can_write = access == "write"
        self._record(actor, f"group:{group}",
                     {"action": "grant", "collection": collection, "access": access}, source)

    def forget_user(self, user_id: int) -> None:
        with self.store.session() as sess:
            sess.execute(delete(MembershipTable).where(MembershipTable.user_id == user_id))

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _group(sess, name: str) -> GroupTable:
        group = sess.scalars(select(GroupTable).where(GroupTable.name == name)).first()
        if group is None:
            raise NotFoundError(f"no group named {name!r}")
        return group

    def _record(self, actor: Principal | None, target: str, details: dict,
                source: str | None) -> None:
        self.audit.record(ACCOUNT_UPDATE, actor=actor_of(actor), target=target, source=source,
                          details=details)
