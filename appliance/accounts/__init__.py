"""Accounts: users, roles and groups, collection access, login and sessions, API tokens.

Public surface:
    AccountService(settings, store, audit)   users, roles, groups; .access .sessions .tokens
    Access, check_name, require_audit        which collections a caller may read or write
    Principal, Passwords, Sessions           an authenticated caller; password hashes; sessions
    Tokens                                   API tokens (hashed at rest)
    RateLimiter                              per-user request rates (API), HTTP 429
    AccountError, AuthError, Throttled, RateLimited, PermissionDenied
"""
from .access import Access, check_name, require_audit
from .errors import AccountError, AuthError, PermissionDenied, RateLimited, Throttled
from .login import Passwords, Principal, Sessions
from .rate_limits import RateLimiter
from .tokens import Tokens
from .users import AccountService

__all__ = ["AccountError", "AccountService", "Access", "AuthError", "Passwords",
           "PermissionDenied", "Principal", "RateLimited", "RateLimiter", "Sessions", "Throttled",
           "Tokens", "check_name",
           "require_audit"]
