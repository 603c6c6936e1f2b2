"""create_app(): the Flask application for the web chat, the admin pages and the OpenAI API.

One Flask app per process (gunicorn worker); it owns one Appliance (services) and so one
model context. With `warm=True` the heavy parts load in a background thread and /readyz
answers 503 until they have.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask

from .settings import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, services=None, warm: bool = False) -> Flask:
    from .services import build_services
    from .web import register_web

    settings = settings or load_settings()
    services = services or build_services(settings)
    app = Flask("appliance.web", static_folder="static", template_folder="templates")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_file_bytes + 1024 * 1024,  # room for the form fields
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.extensions["appliance"] = services
    ready = threading.Event()
    app.extensions["appliance.ready"] = ready
    register_web(app)
    if warm:
        threading.Thread(target=_warm, args=(services, ready), name="warm-up",
                         daemon=True).start()
    else:
        ready.set()
    return app


def _warm(services, ready: threading.Event) -> None:
    """Load the model, embedder, indexes and redactor before the first question needs them."""
    try:
        for part in ("redactor", "embedder", "indexes", "retriever", "generator", "chat",
                     "accounts"):
            getattr(services, part)
        ready.set()
        if services.settings.source_watch:
            services.watch_sources_in_background()
    except Exception:  # noqa: BLE001 - reported by /readyz staying 503, and in the log
        log.exception("warm-up failed; /readyz stays unready")
