"""Who is calling, may they, and the headers every response carries.

- UI requests are identified by the server-side session cookie; /v1/ requests only by a
  bearer API token (cookies are ignored there, so the API cannot be driven cross-site).
- Every state-changing UI request (POST, PUT, PATCH, DELETE) needs the session's CSRF token
  in the X-CSRF-Token header or a csrf_token form field, and a same-origin Origin header when
  the browser sends one. The login form uses a double-submit cookie instead (no session yet).
- GET never changes state.
"""
from __future__ import annotations

import hmac
import secrets
import socket
import time
from functools import wraps

from flask import Flask, g, redirect, request, url_for

from ..accounts import AuthError, PermissionDenied
from .context import cookie_name, services, settings

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SESSION_COOKIE = "appliance_session"
LOGIN_COOKIE = "appliance_login"
ANONYMOUS_ENDPOINTS = ("static", "ops.healthz", "ops.readyz", "ops.metrics")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make browsers send Origin: null
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def install(app: Flask) -> None:
    app.before_request(_identify)
    app.before_request(_check_csrf)
    app.after_request(_finish)
    app.context_processor(_template_globals)


def is_api() -> bool:
    return request.path.startswith("/v1/")


def _identify() -> None:
    g.request_id = secrets.token_hex(8)
    g.started = time.perf_counter()
    g.principal = None
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return  # no store lookup for files and probes
    accounts = services().accounts
    if is_api():
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() == "bearer":
            g.principal = accounts.tokens.principal(secret.strip())
    else:
        g.principal = accounts.sessions.principal(request.cookies.get(cookie_name(SESSION_COOKIE)))


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser, or a same-origin GET-style navigation
        return True
    return origin == request.host_url.rstrip("/")


def _check_csrf() -> None:
    if request.method in SAFE_METHODS or is_api():
        return
    if not _same_origin():
        raise PermissionDenied("cross-origin request refused")
    if request.endpoint == "auth.login":
        cookie = request.cookies.get(cookie_name(LOGIN_COOKIE), "")
        field = request.form.get("csrf_token", "")
        if not cookie or not hmac.compare_digest(cookie, field):
            raise PermissionDenied("the login form expired; reload the page and try again")
        return
    if g.principal is None:
        raise AuthError("log in first")
    supplied = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not services().accounts.sessions.csrf_ok(g.principal, supplied):
        raise PermissionDenied("missing or wrong CSRF token; reload the page and try again")


def _finish(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    response.headers["X-Appliance-Node"] = node_name()
    endpoint = request.endpoint or "unmatched"
    services().metrics.http_requests.inc(endpoint=endpoint, method=request.method,
                                         status=str(response.status_code))
    return response


def node_name() -> str:
    return settings().node_name or socket.gethostname()


def _template_globals() -> dict:
    who = g.get("principal")
    return {"me": who, "csrf_token": who.csrf_token if who is not None else ""}


def set_session_cookie(response, token: str) -> None:
    s = settings()
    response.set_cookie(cookie_name(SESSION_COOKIE), token, max_age=s.session_max_hours * 3600,
                        path="/", secure=s.web_secure_cookies, httponly=True, samesite="Strict")


def clear_session_cookie(response) -> None:
    s = settings()
    response.delete_cookie(cookie_name(SESSION_COOKIE), path="/", secure=s.web_secure_cookies,
                           httponly=True, samesite="Strict")


def login_form_token() -> str:
    """The login form's double-submit token: reuse the cookie's or set a new one."""
    existing = request.cookies.get(cookie_name(LOGIN_COOKIE))
    if existing and len(existing) <= 64:
        return existing
    token = secrets.token_urlsafe(24)
    g.new_login_token = token
    return token


def attach_login_cookie(response) -> None:
    token = g.get("new_login_token")
    if token:
        s = settings()
        response.set_cookie(cookie_name(LOGIN_COOKIE), token, max_age=3600, path="/",
                            secure=s.web_secure_cookies, httponly=True, samesite="Strict")


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("principal") is None:
            if is_api() or request.method not in SAFE_METHODS or request.is_json:
                raise AuthError("log in first" if not is_api() else
                                "missing, unknown or revoked API token")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def roles_required(*roles: str):
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if g.principal.role not in roles:
                raise PermissionDenied("your role may not open this page")
            return view(*args, **kwargs)
        return wrapper
    return decorate
