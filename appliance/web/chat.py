"""The chat: conversations, asking (answers streamed as server-sent events), feedback."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from ..answering import CATEGORIES
from ..errors import InvalidRequest
from .context import (address, disconnect_probe, form_int, json_body, principal, services,
                      wants_json)
from .security import login_required
from .sse import sse

bp = Blueprint("chat", __name__)

CATEGORY_LABELS = {"wrong_fact": "Wrong fact", "wrong_format": "Wrong format",
                   "wrong_tone": "Wrong tone", "wrong_reasoning": "Wrong reasoning",
                   "other": "Other"}
assert set(CATEGORY_LABELS) == set(CATEGORIES)


@bp.get("/")
def root():
    return redirect(url_for("chat.index"))


@bp.get("/chat")
@login_required
def index():
    page = services().conversations.page(principal())
    return render_template("chat.html", page=page, categories=CATEGORY_LABELS)


@bp.get("/chat/<int:conversation_id>")
@login_required
def conversation(conversation_id: int):
    page = services().conversations.page(principal(), conversation_id)
    return render_template("chat.html", page=page, categories=CATEGORY_LABELS)


@bp.post("/chat/ask")
@login_required
def ask():
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("send a JSON object: {\"question\": ...}")
    collections = body.get("collections")
    if collections is not None and not isinstance(collections, list):
        raise InvalidRequest("collections must be a list of names")
    events = services().conversations.ask(
        principal(), str(body.get("question") or ""),
        form_int(body.get("conversation_id")), collections, source=address(),
        gone=disconnect_probe())
    return sse(events)


@bp.post("/chat/<int:conversation_id>/delete")
@login_required
def delete(conversation_id: int):
    services().conversations.delete(principal(), conversation_id)
    return redirect(url_for("chat.index"), 303)


@bp.post("/chat/messages/<int:message_id>/feedback")
@login_required
def feedback(message_id: int):
    data = json_body() if request.is_json else request.form
    data = data or {}
    conversation_id = services().conversations.feedback(principal(), message_id, str(data.get("rating") or ""),
                                                        data.get("category") or None,
                                                        data.get("correction") or None)
    if wants_json() or request.headers.get("X-Requested-With") == "fetch":
        return jsonify({"ok": True})
    return redirect(url_for("chat.conversation", conversation_id=conversation_id), 303)
