"""Error responses: a clear message and a 4xx for what a caller did, never a traceback.

/v1/ paths answer in the OpenAI error shape; JSON callers get {"error": message}; browsers
get a small HTML page. Unexpected errors are logged with the request id, which the page shows.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import (
    ApplianceError,
    AuditError,
    IngestError,
    ModelError,
    NotFoundError,
    OversizeFileError,
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
        log.exception("request %s %s failed (request id %s)", request.method, request.path,
                      request_id())
        return error_response(f"internal error (request id {request_id()})", 500)
