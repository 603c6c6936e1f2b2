"""Error responses: a clear message and a 4xx for what a caller did, never a traceback.

/v1/ paths answer in the OpenAI error shape; JSON callers get {"error": message}; browsers
get a small HTML page. Unexpected errors are logged with the request id, which the page shows.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import (
    ApplianceError,
    AuditError,
    IngestError,
    ModelError,
    NotFoundError,
    OversizeFileError,
    StoreUnavailable,
    UnsupportedFileError,
)
from .context import request_id, settings, wants_json
from .security import is_api

log = logging.getLogger(__name__)

STATUS_OF = ((NotFoundError, 404), (OversizeFileError, 413), (UnsupportedFileError, 415),
             (IngestError, 400), (AuditError, 409), (ModelError, 503))
OPENAI_TYPE = {400: "invalid_request_error", 401: "authentication_error",
               403: "permission_error", 404: "not_found_error", 413: "invalid_request_error",
               415: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error",
               503: "server_error"}


def status_of(exc: ApplianceError) -> int:
    status = getattr(exc, "http_status", None)
    if status:
        return status
    for kind, code in STATUS_OF:
        if isinstance(exc, kind):
            return code
    return 400


def error_response(message: str, status: int, code: str | None = None):
    if is_api():
        body = {"error": {"message": message, "type": OPENAI_TYPE.get(status, "server_error"),
                          "param": None, "code": code}}
        response = jsonify(body)
    elif wants_json():
        response = jsonify({"error": message, "request_id": request_id()})
    else:
        response = render_template("error.html", message=message, status=status,
                                   request_id=request_id())
    return response, status


def install(app: Flask) -> None:
    @app.errorhandler(ApplianceError)
    def _appliance_error(exc: ApplianceError):
        response, status = error_response(str(exc), status_of(exc))
        if getattr(exc, "retry_after", None):  # Throttled, RateLimited
            response = app.make_response((response, status))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return response, status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = settings().max_file_bytes
        return error_response(f"the upload is larger than the limit of {limit} bytes", 413)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_response(exc.description or exc.name, exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if _unavailable(exc):  # a restart or failover: a 503 to retry, not a 500
            log.warning("request %s %s: the store is unavailable (%s, request id %s)",
                        request.method, request.path, type(_driver_error(exc)).__name__,
                        request_id())
            return _appliance_error(StoreUnavailable())
        log.exception("request %s %s failed (request id %s)", request.method, request.path,
                      request_id())
        return error_response(f"internal error (request id {request_id()})", 500)


def _driver_error(exc: Exception) -> Exception:
    """The database driver's own exception (SQLAlchemy wraps it; the audit log's raw
    connections raise it as is)."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def _unavailable(exc: Exception) -> bool:
    """A lost or refused connection, or a server that no longer accepts writes (a primary
    being demoted), as opposed to a bug in a query."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = _driver_error(exc)
    driver = type(orig).__module__.split(".")[0]
    if driver == "sqlite3":  # a busy or vanished file, not a missing table
        return any(m in str(orig) for m in ("locked", "unable to open", "disk I/O"))
    if driver != "psycopg":
        return False
    names = {klass.__name__ for klass in type(orig).__mro__}
    return bool(names & {"OperationalError", "InterfaceError", "ReadOnlySqlTransaction"})
