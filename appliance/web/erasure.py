"""The Erasure admin page: preview what an erasure reaches, carry it out, list the signed
reports (each verified) and download them."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from ..errors import InvalidRequest
from .context import principal, services
from .security import roles_required

bp = Blueprint("erasure", __name__, url_prefix="/admin/erasure")
KINDS = ("subject", "document", "user", "expired")


def _target() -> dict:
    kind, value = request.form.get("kind", ""), request.form.get("value", "").strip()
    if kind not in KINDS:
        raise InvalidRequest(f"choose what to erase: {', '.join(KINDS)}")
    if kind == "document":
        if not value.isdigit():
            raise InvalidRequest("a document is named by its id (a number, see Documents)")
        return {"document": int(value)}
    if kind == "expired":
        return {"expired": True}
    return {kind: value}


def _page(plan=None, done=None, target=None, status: int = 200):
    from ..audit import load_keyring

    reports = services().erasure.reports(load_keyring(services().settings))
    return render_template("erasure.html", plan=plan, done=done, target=target or {},
                           reports=reports, kinds=KINDS), status


@bp.get("")
@roles_required("admin")
def index():
    return _page()


@bp.post("/preview")
@roles_required("admin")
def preview():
    target = _target()
    return _page(plan=services().erasure.plan(**target), target=target)


@bp.post("")
@roles_required("admin")
def erase():
    target = _target()
    if request.form.get("confirm", "").strip().lower() != "erase":
        raise InvalidRequest("type erase to confirm")
    erasure = services().erasure
    plan = erasure.plan(**target)
    if plan.scope.empty:
        return _page(plan=plan, target=target)
    done = erasure.erase(plan, actor=principal().username, subject=target.get("subject"))
    return _page(done=done)


@bp.get("/reports/<name>")
@roles_required("admin", "auditor")
def report(name: str):
    text = services().erasure.report_text(name)
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
