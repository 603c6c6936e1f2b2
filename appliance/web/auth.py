"""Login, logout, the account page: own password and API tokens."""
from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from ..accounts import AuthError, Throttled
from .context import address, principal, request_id, services
from .security import (
    attach_login_cookie,
    clear_session_cookie,
    login_form_token,
    login_required,
    set_session_cookie,
)

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//evil.example" and "https://..." are not followed.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("chat.index")


@bp.get("/login")
def login_page():
    body = render_template("login.html", form_token=login_form_token(),
                           next=request.args.get("next", ""), error=None)
    return _with_login_cookie(body)


def _with_login_cookie(body, status: int = 200):
    response = make_response(body, status)
    attach_login_cookie(response)
    return response


@bp.post("/login")
def login():
    username = request.form.get("username", "")
    try:
        token, _ = services().accounts.sessions.login(
            username, request.form.get("password", ""), address(), request_id())
    except Throttled as exc:
        body = render_template("login.html", form_token=login_form_token(), next="",
                               error=f"{exc} (about {exc.retry_after} s)")
        response = _with_login_cookie(body, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthError as exc:
        body = render_template("login.html", form_token=login_form_token(),
                               next=request.form.get("next", ""), error=str(exc))
        return _with_login_cookie(body, 401)
    response = redirect(_safe_next(request.form.get("next")), 303)
    set_session_cookie(response, token)
    return response


@bp.post("/logout")
@login_required
def logout():
    services().accounts.sessions.logout(principal(), address(), request_id())
    response = redirect(url_for("auth.login"), 303)
    clear_session_cookie(response)
    return response


@bp.get("/account")
@login_required
def account():
    tokens = services().accounts.tokens.list(principal().user_id)
    return render_template("account.html", tokens=tokens, new_token=None, message=None)


@bp.post("/account/password")
@login_required
def change_password():
    if request.form.get("new_password", "") != request.form.get("confirm_password", ""):
        tokens = services().accounts.tokens.list(principal().user_id)
        return render_template("account.html", tokens=tokens, new_token=None,
                               message="The two new passwords differ."), 400
    token, _ = services().accounts.change_password(
        principal(), request.form.get("current_password", ""),
        request.form.get("new_password", ""), address(), request_id())
    response = redirect(url_for("auth.account", changed=1), 303)
    set_session_cookie(response, token)  # every other session has ended
    return response


@bp.post("/account/tokens")
@login_required
def create_token():
    secret, _ = services().accounts.tokens.create(principal(), request.form.get("name", ""),
                                                  address(), request_id())
    tokens = services().accounts.tokens.list(principal().user_id)
    return render_template("account.html", tokens=tokens, new_token=secret, message=None), 201


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    services().accounts.tokens.revoke(principal(), token_id, address(), request_id())
    return redirect(url_for("auth.account"), 303)

