"""OpenAI-compatible API: /v1/models, /v1/chat/completions, /v1/embeddings (docs/api.md).

Bearer API tokens only. Chat answers come from the same AskService as the web chat, so
access control, the PII policy, the fair queue and the audit log apply exactly as there.
Citations travel in the `appliance` extension field; an `appliance` request field chooses
collections or turns retrieval off.
"""
from __future__ import annotations

import base64
import json
import secrets
import time

from flask import Blueprint, g, jsonify, request

from ..answering import citation_json, history_from_messages, message_text
from ..errors import InvalidRequest, NotFoundError
from ..knowledge import CHAT_MODEL
from .context import address, disconnect_probe, json_body, principal, services, settings
from .security import login_required
from .sse import guarded, stream_response

bp = Blueprint("openai_api", __name__, url_prefix="/v1")


@bp.before_request
def _rate_limits() -> None:
    """Each user's API requests, and chat completions apart, are limited per minute (429)."""
    who = g.get("principal")
    if who is None:
        return  # login_required answers 401
    limits = services().rate_limits
    limits.check(who.username, "request")
    if request.endpoint == "openai_api.chat_completions":
        limits.check(who.username, "chat")


def _model(mid: str, created: int) -> dict:
    return {"id": mid, "object": "model", "created": created, "owned_by": "appliance"}


def _check_model(requested, kind: str) -> str:
    ids = [mid for mid, what in services().embeddings.models() if what == kind]
    if requested not in ids:
        raise NotFoundError(f"model {requested!r} does not exist here; use {ids[0]!r} "
                            "(see /v1/models)")
    return requested


@bp.get("/models")
@login_required
def models():
    created = int(time.time())
    return jsonify({"object": "list",
                    "data": [_model(mid, created) for mid, _ in services().embeddings.models()]})


@bp.get("/models/<path:model_id>")
@login_required
def model(model_id: str):
    if model_id not in [mid for mid, _ in services().embeddings.models()]:
        raise NotFoundError(f"model {model_id!r} does not exist here")
    return jsonify(_model(model_id, int(time.time())))


def _question(messages) -> str:
    """The last user message: the appliance answers one question from the documents."""
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages must be a non-empty list")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message_text(message.get("content"))  # text parts joined
            if content and content.strip():
                return content
    raise InvalidRequest("messages need a user message with text content")


def _options(body: dict) -> tuple[list | None, bool]:
    ext = body.get("appliance") or {}
    if not isinstance(ext, dict):
        raise InvalidRequest("appliance must be an object")
    collections = ext.get("collections")
    if collections is not None and (not isinstance(collections, list) or
                                    not all(isinstance(c, str) for c in collections)):
        raise InvalidRequest("appliance.collections must be a list of collection names")
    retrieval = ext.get("retrieval", True)
    if not isinstance(retrieval, bool):
        raise InvalidRequest("appliance.retrieval must be true or false")
    return collections, retrieval


def _extension(answer, data: dict, allowed, retrieval: bool) -> dict:
    return {"citations": [citation_json(c, True) for c in answer.citations],
            "refused": answer.refused, "path": answer.path, "reason": answer.reason,
            "answer": answer.answer, "short_answer": answer.short_answer,
            "collections": sorted(allowed), "retrieval": retrieval,
            "queue_wait_ms": data["queue_wait_ms"], "timings_ms": answer.timings_ms}


def _usage(answer) -> dict:
    prompt, completion = answer.tokens.get("prompt", 0), answer.tokens.get("completion", 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _finish_reason(answer, limit: int) -> str:
    return "length" if answer.tokens.get("completion", 0) >= limit else "stop"


@bp.post("/chat/completions")
@login_required
def chat_completions():
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    _check_model(body.get("model"), "chat")
    collections, retrieval = _options(body)
    messages = body.get("messages")
    history, system = history_from_messages(messages)
    stream = services().asking.start(principal(), _question(messages), collections,
                                     retrieval, source=address(), gone=disconnect_probe(),
                                     history=history[-2:], style=system or "")
    head = {"id": "chatcmpl-" + secrets.token_hex(12), "created": int(time.time()),
            "model": CHAT_MODEL}
    limit = settings().max_answer_tokens
    if body.get("stream"):
        options = body.get("stream_options")
        usage = isinstance(options, dict) and bool(options.get("include_usage"))
        return stream_response(guarded(_chunks(stream, head, retrieval, usage, limit),
                                       lambda s: s,
                                       _stream_error))
    events = iter(stream)
    try:
        for kind, data in events:
            if kind == "done":
                answer = data["answer"]
                return jsonify(head | {
                    "object": "chat.completion",
                    "choices": [{"index": 0, "finish_reason": _finish_reason(answer, limit),
                                 "logprobs": None,
                                 "message": {"role": "assistant", "content": answer.answer}}],
                    "usage": _usage(answer),
                    "appliance": _extension(answer, data, stream.allowed, retrieval)})
    finally:
        events.close()  # frees the queue turn now, not when garbage is collected
    return "", 499  # the client went away before the answer was complete


def _data(obj) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def _stream_error(message: str) -> str:
    return _data({"error": {"message": message, "type": "server_error", "param": None,
                            "code": None}})


def _chunks(stream, head: dict, retrieval: bool, include_usage: bool, limit: int):
    """The streamed chunks; runs after the request, so everything it needs is passed in.

    An API client joins the deltas and cannot take one back, so no delta carries text before
    the answer has passed its check: while the model writes, the stream sends SSE comments
    (which clients ignore), then the checked answer — the model's words, the quote that
    replaced them, or the refusal — with the path it took in the final chunk's extension."""
    chunk = head | {"object": "chat.completion.chunk"}

    def piece(delta: dict, finish=None, **extra) -> str:
        return _data(chunk | {"choices": [{"index": 0, "delta": delta, "logprobs": None,
                                           "finish_reason": finish}]} | extra)

    yield piece({"role": "assistant", "content": ""})
    for kind, data in stream:
        if kind == "queue":  # an SSE comment: clients ignore it, and a gone client is noticed
            yield f": queue position {data['position']} of {data['waiting']}\n\n"
        elif kind == "start":
            yield ": answering\n\n"
        elif kind == "token":
            yield ": checking\n\n"  # held back until checked; keeps the connection alive
        elif kind == "done":
            answer = data["answer"]
            if answer.answer:
                yield piece({"content": answer.answer})
            yield piece({}, _finish_reason(answer, limit),
                        appliance=_extension(answer, data, stream.allowed, retrieval))
            if include_usage:
                yield _data(chunk | {"choices": [], "usage": _usage(answer)})
    yield "data: [DONE]\n\n"


@bp.post("/embeddings")
@login_required
def embeddings():
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    _check_model(body.get("model"), "embeddings")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise InvalidRequest("encoding_format must be float or base64")
    result = services().embeddings.embed(principal(), body.get("input"))
    data = []
    for i, row in enumerate(result.vectors):
        value = (base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
                 if fmt == "base64" else [float(x) for x in row])
        data.append({"object": "embedding", "index": i, "embedding": value})
    return jsonify({"object": "list", "data": data, "model": result.model,
                    "usage": {"prompt_tokens": result.tokens, "total_tokens": result.tokens}})
