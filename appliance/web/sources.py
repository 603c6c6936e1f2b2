"""The Sources admin page: watched folders, their freshness and errors; add, sync, change,
remove."""
from __future__ import annotations

import time

from flask import Blueprint, render_template, request

from .context import principal, services
from .security import roles_required

bp = Blueprint("sources", __name__, url_prefix="/admin/sources")


def _globs(field: str) -> list[str]:
    return [g.strip() for g in request.form.get(field, "").replace(",", "\n").splitlines()
            if g.strip()]


def _page(message: str | None = None, reports=None, status: int = 200):
    return render_template("sources.html", sources=services().sources.list(), now=time.time(),
                           message=message, reports=reports or []), status


@bp.get("")
@roles_required("admin")
def index():
    return _page()


@bp.post("")
@roles_required("admin")
def add():
    info = services().sources.add(request.form.get("path", ""),
                                  request.form.get("collection") or None,
                                  _globs("include"), _globs("exclude"),
                                  actor=principal().username)
    reports = services().sources.sync([info.id], actor=principal().username)
    return _page(f"Source {info.id} added and synced.", reports, 201)


@bp.post("/<int:source_id>/sync")
@roles_required("admin")
def sync(source_id: int):
    reports = services().sources.sync([source_id], actor=principal().username)
    return _page(f"Source {source_id} synced.", reports)


@bp.post("/<int:source_id>/change")
@roles_required("admin")
def change(source_id: int):
    services().sources.change(source_id, _globs("include"), _globs("exclude"),
                              actor=principal().username)
    reports = services().sources.sync([source_id], actor=principal().username)
    return _page(f"Source {source_id} changed and synced.", reports)


@bp.post("/<int:source_id>/remove")
@roles_required("admin")
def remove(source_id: int):
    keep = request.form.get("keep_documents") == "on"
    removed = services().sources.remove(source_id, keep_documents=keep,
                                        actor=principal().username)
    return _page(f"Source {source_id} removed" + ("; its documents kept." if keep else
                                                  f" with {removed} document(s)."))
