"""Documents: list, upload (size limit, type allow-list, progress in the browser), delete,
and a per-document view of its chunks (where citations point)."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from ..errors import InvalidRequest
from .context import principal, services, wants_json
from .security import login_required

bp = Blueprint("documents", __name__)

ADDED = ("added", "updated")
# A file that failed: too large, of a type not read, or content that breaks a limit or cannot
# be parsed (the type and size were checked before ingest, so the last two are the usual).
FAILED_STATUS = {"OversizeFileError": 413, "UnsupportedFileError": 415,
                 "RejectedFileError": 422, "CorruptFileError": 422, "EmptyFileError": 422}


@bp.get("/documents")
@login_required
def index():
    return render_template("documents.html", page=services().documents.page(principal()))


@bp.get("/documents/<int:doc_id>")
@login_required
def show(doc_id: int):
    doc, chunks = services().documents.chunks(principal(), doc_id)
    return render_template("document.html", doc=doc, chunks=chunks)


@bp.post("/documents/upload")
@login_required
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidRequest("choose a file to upload")
    outcome = services().documents.upload(principal(), file.filename, file.read(),
                                          request.form.get("collection") or None)
    body = {"name": outcome.name, "status": outcome.status, "doc_id": outcome.doc_id,
            "version": outcome.version, "chunks": outcome.chunks, "error": outcome.error}
    if outcome.status == "failed":
        status = FAILED_STATUS.get(outcome.error_kind or "", 400)
    else:
        status = 201 if outcome.status in ADDED else 200
    if wants_json() or request.headers.get("X-Requested-With") == "fetch":
        return jsonify(body), status
    return redirect(url_for("documents.index"), 303)


@bp.post("/documents/<int:doc_id>/delete")
@login_required
def delete(doc_id: int):
    name = services().documents.delete(principal(), doc_id)
    if wants_json():
        return jsonify({"deleted": name})
    return redirect(url_for("documents.index"), 303)
