"""API tokens: bearer secrets a user creates and revokes; each acts with its user's access.

A token is "apl_" plus 32 random bytes (base64url); the store keeps its sha256 (the secret is
long and random, so a fast hash is enough) and an 8-character prefix to recognise it by.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from ..audit import TOKEN_CREATE, TOKEN_REVOKE
from ..errors import NotFoundError
from ..store import ApiTokenTable, Store, UserTable
from .errors import AccountError
from .login import Principal, sha256_hex

TOKEN_PREFIX = "apl_"
MAX_TOKENS_PER_USER = 50
LAST_USED_EVERY = 60.0


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _info(row: ApiTokenTable) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.prefix, row.created_at, row.last_used_at,
                     row.revoked_at)


class Tokens:
    """Create, list, revoke and authenticate API tokens."""

    def __init__(self, store: Store, audit):
        self.store, self.audit = store, audit

    def create(self, principal: Principal, name: str, source: str | None = None,
               request_id: str | None = None) -> tuple[str, TokenInfo]:
        """A new token for the caller; the secret is returned once and never stored."""
        name = (name or "").strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise AccountError("a token needs a name of 1 to 64 printable characters")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with self.store.session() as sess:
            active = sess.scalars(select(ApiTokenTable.id).where(
                ApiTokenTable.user_id == principal.user_id,
                ApiTokenTable.revoked_at.is_(None))).all()
            if len(active) >= MAX_TOKENS_PER_USER:
                raise AccountError(f"at most {MAX_TOKENS_PER_USER} active tokens; revoke one")
            row = ApiTokenTable(user_id=principal.user_id, name=name, prefix=secret[:8],
                                token_hash=sha256_hex(secret), created_at=now)
            sess.add(row)
            sess.flush()
            info = _info(row)
        self.audit.record(TOKEN_CREATE, actor=principal.username, target=f"token:{info.id}",
                          source=source, request_id=request_id, details={"name": name})
        return secret, info

    def list(self, user_id: int) -> list[TokenInfo]:
        with self.store.session() as sess:
            rows = sess.scalars(select(ApiTokenTable).where(ApiTokenTable.user_id == user_id)
                                .order_by(ApiTokenTable.id.desc())).all()
            return [_info(r) for r in rows]

    def revoke(self, principal: Principal, token_id: int, source: str | None = None,
               request_id: str | None = None) -> None:
        """Revoke one of the caller's tokens (an admin may revoke anyone's)."""
        with self.store.session() as sess:
            row = sess.get(ApiTokenTable, token_id)
            if row is None or (row.user_id != principal.user_id and not principal.is_admin):
                raise NotFoundError(f"no token with id {token_id}")
            if row.revoked_at is not None:
                return
            row.revoked_at = time.time()
        self.audit.record(TOKEN_REVOKE, actor=principal.username, target=f"token:{token_id}",
                          source=source, request_id=request_id, details={"name": row.name})

    def revoke_all(self, user_id: int) -> int:
        with self.store.session() as sess:
            rows = sess.scalars(select(ApiTokenTable).where(
                ApiTokenTable.user_id == user_id, ApiTokenTable.revoked_at.is_(None))).all()
            for row in rows:
                row.revoked_at = time.time()
            return len(rows)

    def principal(self, secret: str | None) -> Principal | None:
        """The token's user, or None when unknown, revoked or the user is disabled."""
        if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
            return None
        now = time.time()
        with self.store.session() as sess:
            row = sess.scalars(select(ApiTokenTable).where(
                ApiTokenTable.token_hash == sha256_hex(secret))).first()
            if row is None or row.revoked_at is not None:
                return None
            user = sess.get(UserTable, row.user_id)
            if user is None or user.disabled:
                return None
            if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
                row.last_used_at = now
            return Principal(user.id, user.username, user.role, "token", token_id=row.id)
