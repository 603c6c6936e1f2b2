"""Auditor pages: the audit log with filters, verification, signed export (zip download)."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..audit import AuditFilter, pretty_details
from .context import address, form_int, principal, services
from .security import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _filter() -> AuditFilter:
    a = request.args
    return AuditFilter(type=a.get("type", ""), actor=a.get("actor", "").strip(),
                       outcome=a.get("outcome", ""), since=a.get("since", "").strip(),
                       until=a.get("until", "").strip(), before_seq=form_int(a.get("before")))


def _render(flt: AuditFilter, result=None, status: int = 200):
    oversight = services().oversight
    rows = oversight.events(principal(), flt)
    return render_template("audit.html", rows=rows, f=flt, result=result,
                           types=oversight.event_types(), outcomes=oversight.outcomes(),
                           formats=oversight.formats(), pretty=pretty_details), status


@bp.get("")
@roles_required("admin", "auditor")
def index():
    return _render(_filter())


@bp.post("/verify")
@roles_required("admin", "auditor")
def verify():
    result = services().oversight.verify(principal(), address())
    return _render(AuditFilter(), result)


@bp.post("/export")
@roles_required("admin", "auditor")
def export():
    name, data = services().oversight.export_zip(
        principal(), request.form.get("format", "jsonl"), request.form.get("since", "").strip(),
        request.form.get("until", "").strip(), address())
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
