"""Errors a caller causes through accounts, sessions, tokens and access control.

Each carries the HTTP status the web layer answers with; the CLI prints the message.
"""
from __future__ import annotations

from ..errors import ApplianceError


class AccountError(ApplianceError):
    """A request about accounts that cannot be done as asked (bad name, weak password...)."""

    http_status = 400


class AuthError(AccountError):
    """Not authenticated: wrong credentials, expired session, revoked token."""

    http_status = 401


class Throttled(AuthError):
    """Too many failed logins for this account or address; try again later."""

    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class RateLimited(AccountError):
    """Too many requests from this user in the last minute; try again after `retry_after`."""

    http_status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class PermissionDenied(AccountError):
    """Authenticated, but this role or these groups may not do that."""

    http_status = 403
