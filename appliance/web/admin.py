"""Admin pages: users and roles, groups and members, collections and grants, the policy, the
models (switched without a restart), the adapters and their quality reports."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from .context import address, principal, services
from .security import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(message: str | None = None, secret: str | None = None, status: int = 200):
    from ..evaluation import headline

    directory = services().accounts.directory(principal())
    return render_template("admin.html", d=directory, message=message, secret=secret,
                           adapters=services().adapters.list(), headline=headline,
                           models=services().models.list(),
                           context_size=services().settings.context_size), status


def _back():
    return redirect(url_for("admin.index"), 303)


@bp.get("")
@roles_required("admin")
def index():
    return _page()


@bp.get("/adapters/<int:version>/report.json")
@roles_required("admin")
def adapter_report(version: int):
    info = services().adapters.get(version)
    return jsonify({"version": info.version, "name": info.name, "sha256": info.sha256,
                    **info.metrics, "regressions": list(info.regressions)})


@bp.post("/models/<name>/activate")
@roles_required("admin")
def activate_model(name: str):
    services().models.activate(name, principal().username)
    return _page(f"Now serving {name if name != 'bundled' else 'the bundled model'}: from the "
                 "next answer on, in every worker.")


@bp.post("/users")
@roles_required("admin")
def create_user():
    info, generated = services().accounts.create_user(
        principal(), request.form.get("username", ""), request.form.get("role", "user"),
        request.form.get("password") or None, tuple(request.form.getlist("groups")), address())
    if generated:
        return _page(f"User {info.username} created. Their password is shown once:", generated,
                     201)
    return _page(f"User {info.username} created.", None, 201)


@bp.post("/users/<username>/role")
@roles_required("admin")
def set_role(username: str):
    services().accounts.set_role(principal(), username, request.form.get("role", ""), address())
    return _back()


@bp.post("/users/<username>/disable")
@roles_required("admin")
def disable(username: str):
    services().accounts.set_disabled(principal(), username, True, address())
    return _back()


@bp.post("/users/<username>/enable")
@roles_required("admin")
def enable(username: str):
    services().accounts.set_disabled(principal(), username, False, address())
    return _back()


@bp.post("/users/<username>/password")
@roles_required("admin")
def reset_password(username: str):
    generated = services().accounts.reset_password(principal(), username, None, address())
    return _page(f"New password for {username}; their sessions have ended. Shown once:",
                 generated)


@bp.post("/groups")
@roles_required("admin")
def create_group():
    services().accounts.access.create_group(principal(), request.form.get("name", ""),
                                            request.form.get("description", ""), address())
    return _back()


@bp.post("/groups/<name>/delete")
@roles_required("admin")
def delete_group(name: str):
    services().accounts.access.delete_group(principal(), name, address())
    return _back()


@bp.post("/members")
@roles_required("admin")
def set_member():
    services().accounts.access.set_member(
        principal(), request.form.get("group", ""), request.form.get("username", ""),
        request.form.get("action", "add") != "remove", address())
    return _back()


@bp.post("/grants")
@roles_required("admin")
def set_grant():
    services().accounts.access.set_grant(
        principal(), request.form.get("group", ""), request.form.get("collection", ""),
        request.form.get("access", "read"), address())
    return _back()


@bp.post("/collections")
@roles_required("admin")
def create_collection():
    services().accounts.access.create_collection(
        principal(), request.form.get("name", ""), request.form.get("description", ""),
        address())
    return _back()


@bp.get("/policy")
@roles_required("admin", "auditor")
def policy():
    return render_template("policy.html", policy=services().oversight.policy_summary(principal()))
