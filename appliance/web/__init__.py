"""The web edge: blueprints for login, chat, documents, admin, audit, quality, ops and the
OpenAI API.

Views read the request, call one service method, and render. Everything else here is HTTP:
identity from cookie or bearer token, CSRF, security headers, error pages.
"""
from __future__ import annotations

import time

from flask import Flask

__all__ = ["register_web", "when"]


def when(epoch: float | None) -> str:
    """An epoch time as 'YYYY-MM-DD HH:MM UTC' for pages; '—' when missing."""
    if not epoch:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def register_web(app: Flask) -> None:
    from . import (admin, audit, auth, chat, documents, erasure, errors, openai_api, ops,
                   quality, security, sources)

    app.add_template_filter(when)
    security.install(app)
    errors.install(app)
    for module in (auth, chat, documents, admin, sources, erasure, audit, quality, ops,
                   openai_api):
        app.register_blueprint(module.bp)
