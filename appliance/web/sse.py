"""Server-sent events: turn a service's (event, data) iterator into a streamed response.

Closing the response (the client went away: gunicorn and werkzeug close the iterable when a
write fails) closes the service iterator at once, which cancels the generation.
"""
from __future__ import annotations

import json
import logging
from typing import Callable, Iterable, Iterator

from flask import Response

from ..errors import ApplianceError
from .context import request_id

log = logging.getLogger(__name__)


def event(name: str, data) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream_response(chunks: Iterable[str]) -> Response:
    response = Response(chunks, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def guarded(events: Iterable, render: Callable, on_error: Callable[[str], str]) -> Iterator[str]:
    """Render each item; an error mid-stream becomes one final error event, not a traceback.

    Called inside the request; the returned generator runs after it, outside any context."""
    return _guarded(iter(events), render, on_error, request_id())


def _guarded(iterator, render: Callable, on_error: Callable[[str], str],
             rid: str) -> Iterator[str]:
    try:
        for item in iterator:
            yield render(item)
    except ApplianceError as exc:
        yield on_error(str(exc))
    except Exception:  # noqa: BLE001 - the stream has begun: report it inside the stream
        log.exception("stream failed (request id %s)", rid)
        yield on_error(f"internal error (request id {rid})")
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def sse(events: Iterable[tuple[str, dict]]) -> Response:
    """The web chat's stream: named events with JSON data."""
    return stream_response(guarded(events, lambda item: event(item[0], item[1]),
                                   lambda message: event("error", {"message": message})))
