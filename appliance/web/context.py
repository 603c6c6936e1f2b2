"""Request-scoped helpers shared by the blueprints (no state of their own)."""
from __future__ import annotations

import select
import socket
from typing import Callable

from flask import current_app, g, request

from ..accounts import AuthError


def services():
    """The Appliance (wired services) of this process."""
    return current_app.extensions["appliance"]


def settings():
    return services().settings


def principal():
    """The authenticated caller; views behind login_required always have one."""
    who = g.get("principal")
    if who is None:
        raise AuthError("log in first")
    return who


def address() -> str:
    return request.remote_addr or ""


def request_id() -> str:
    return g.get("request_id", "")


def wants_json() -> bool:
    if request.path.startswith("/v1/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def cookie_name(base: str) -> str:
    """`__Host-` names need Secure, Path=/ and no Domain; used when secure cookies are on."""
    return f"__Host-{base}" if settings().web_secure_cookies else base


def json_body():
    """The request's JSON, or None when it is not JSON (or nests too deep to read)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def form_int(value, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def disconnect_probe() -> Callable[[], bool]:
    """A cheap "has the client hung up?" check on the request's socket (gunicorn, werkzeug).

    A readable socket that peeks zero bytes is closed by the peer; pipelined bytes or a TLS
    socket (which cannot peek) count as still connected. Without a socket: never gone.
    """
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is None:
        return lambda: False

    def gone() -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except ValueError:  # TLS sockets refuse MSG_PEEK: fall back to failing writes
            return False
        except OSError:
            return True
    return gone
