"""Operations endpoints: /healthz (the process answers), /readyz (models loaded, store
reachable), /metrics (Prometheus text). No login; they reveal no documents or people."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from .context import services

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    problems = []
    if not current_app.extensions["appliance.ready"].is_set():
        problems.append("models are still loading")
    store_problem = services().oversight.store_problem()
    if store_problem:
        problems.append(store_problem)
    if problems:
        return jsonify({"status": "unready", "problems": problems}), 503
    return jsonify({"status": "ready"})


@bp.get("/metrics")
def metrics():
    return Response(services().metrics.render(),
                    mimetype="text/plain; version=0.0.4; charset=utf-8")
