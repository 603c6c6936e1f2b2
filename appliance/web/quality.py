"""Quality pages (admins and reviewers): the failure audit and the advice with the mix over
time, and the review queue where answers are labelled and corrected."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for

from ..answering import LABELS
from .context import form_int, principal, services
from .security import roles_required

bp = Blueprint("quality", __name__, url_prefix="/quality")


@bp.get("")
@roles_required("admin", "reviewer")
def index():
    quality = services().quality
    last = min(max(form_int(request.args.get("last"), 200) or 200, 1), 100_000)
    advice = quality.advise(last=last, actor=principal().username)
    return render_template("quality.html", advice=advice, last=last,
                           waiting=len(quality.queue(limit=1000)))


@bp.get("/mix.svg")
@roles_required("admin", "reviewer")
def mix_svg():
    svg = services().quality.mix_svg()
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.get("/review")
@roles_required("admin", "reviewer")
def review():
    """The next waiting answer, or the one asked for (?id=N)."""
    wanted = form_int(request.args.get("id"))
    items = [services().quality.entry(wanted)] if wanted else services().quality.queue(limit=1)
    return render_template("review.html", entry=items[0] if items else None, labels=LABELS,
                           message=request.args.get("done"))


@bp.post("/review/<int:log_id>")
@roles_required("admin", "reviewer")
def label(log_id: int):
    form = request.form
    action = form.get("action", "accept")
    correction = form.get("correction", "").strip() or None
    review = {"reject": "rejected", "edit": "edited"}.get(action, "accepted")
    if review == "accepted" and correction:
        review = "edited"
    entry = services().quality.label(log_id, form.get("label", ""), principal().username,
                                     review, correction if review == "edited" else None)
    return redirect(url_for("quality.review", done=f"answer {entry.id}: {entry.label} "
                                                   f"({entry.review})"), 303)
