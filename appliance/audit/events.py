"""Audit event types (an explicit registry), outcomes, and the rules for event details.

Details hold ids, hashes and counts, never raw prompts or answers: keys named like raw text
(prompt, answer, text, ...) are rejected unless the value is wrapped in `Redacted`, which a
caller uses only when a policy asks to keep redacted text.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Iterable

from ..errors import AuditError

MAX_DETAILS_BYTES = 64 * 1024
RAW_TEXT_KEYS = frozenset({"prompt", "answer", "text", "question", "completion"})
OUTCOMES = ("success", "failure", "denied", "error")


@dataclass(frozen=True)
class EventType:
    """One kind of audit event and how SIEM formats classify it.

    `ocsf` is (class_uid, activity_id); `required` lists detail keys every such event carries.
    """

    name: str
    title: str
    ocsf: tuple[int, int]
    required: tuple[str, ...] = ()


class EventTypeRegistry:
    """Event types by name; registering a name twice is an error."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(self, event_type: EventType) -> str:
        if event_type.name in self._types:
            raise ValueError(f"audit event type {event_type.name!r} is already registered")
        if not event_type.name.isascii() or len(event_type.name) > 32 or " " in event_type.name:
            # 32 printable ASCII characters is the RFC 5424 MSGID limit the syslog export uses.
            raise ValueError(f"audit event type name {event_type.name!r} must be short ASCII")
        self._types[event_type.name] = event_type
        return event_type.name

    def get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise AuditError(f"unknown audit event type {name!r}; known: "
                             f"{', '.join(sorted(self._types))}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)


EVENT_TYPES = EventTypeRegistry()
_r = EVENT_TYPES.register
# OCSF classes: 3001 Account Change, 3002 Authentication, 6003 API Activity
# (activities 1 create, 2 read, 3 update, 4 delete, 99 other).
LOGIN_SUCCESS = _r(EventType("auth.login.success", "Login succeeded", (3002, 1)))
LOGIN_FAILURE = _r(EventType("auth.login.failure", "Login failed", (3002, 1)))
LOGOUT = _r(EventType("auth.logout", "Logout", (3002, 2)))
SESSION_REVOKED = _r(EventType("auth.session.revoked", "Session revoked", (3002, 99)))
ACCOUNT_CREATE = _r(EventType("account.create", "Account created", (3001, 1)))
ACCOUNT_UPDATE = _r(EventType("account.update", "Account changed", (3001, 99)))
ACCOUNT_DELETE = _r(EventType("account.delete", "Account deleted", (3001, 6)))
ROLE_CHANGE = _r(EventType("account.role.change", "Role changed", (3001, 99)))
TOKEN_CREATE = _r(EventType("token.create", "API token created", (3001, 99)))
TOKEN_REVOKE = _r(EventType("token.revoke", "API token revoked", (3001, 99)))
INGEST = _r(EventType("document.ingest", "Document ingested", (6003, 1)))
DOC_VERSION = _r(EventType("document.version", "Document version added", (6003, 3)))
DOC_DELETE = _r(EventType("document.delete", "Document deleted", (6003, 4)))
DOC_RENAME = _r(EventType("document.rename", "Document renamed or moved", (6003, 3)))
SOURCE_ADD = _r(EventType("source.add", "Watched source added", (6003, 1)))
SOURCE_CHANGE = _r(EventType("source.change", "Watched source changed", (6003, 3)))
SOURCE_REMOVE = _r(EventType("source.remove", "Watched source removed", (6003, 4)))
SOURCE_SYNC = _r(EventType("source.sync", "Watched source synced", (6003, 3), required=(
    "source", "collection", "added", "updated", "removed", "renamed", "failed",
    "state_sha256")))
ASK = _r(EventType("chat.ask", "Question answered", (6003, 2), required=(
    "collection", "chunks", "model_sha256", "policy_sha256", "redactions",
    "prompt_sha256", "answer_sha256", "latency_ms")))
POLICY_CHANGE = _r(EventType("policy.change", "Policy changed", (6003, 3)))
ADAPTER_ACTIVATE = _r(EventType("adapter.activate", "Adapter activated", (6003, 3)))
ADAPTER_DEACTIVATE = _r(EventType("adapter.deactivate", "Adapter deactivated", (6003, 3)))
MODEL_ADD = _r(EventType("model.add", "Model registered", (6003, 1)))
MODEL_ACTIVATE = _r(EventType("model.activate", "Model activated", (6003, 3)))
MODEL_REMOVE = _r(EventType("model.remove", "Model removed", (6003, 4)))
EXPORT = _r(EventType("audit.export", "Audit log exported", (6003, 2)))
VERIFY = _r(EventType("audit.verify", "Audit log verified", (6003, 2)))
RETENTION_PRUNE = _r(EventType("audit.prune", "Audit events pruned", (6003, 4)))
KEY_ROTATE = _r(EventType("audit.key.rotate", "Audit key rotated", (6003, 3)))
HOLD_SET = _r(EventType("audit.hold.set", "Legal hold placed", (6003, 1)))
HOLD_RELEASE = _r(EventType("audit.hold.release", "Legal hold released", (6003, 4)))
ERASE = _r(EventType("data.erase", "Personal data erased", (6003, 4), required=(
    "target_kind", "target_sha256", "report_sha256")))
QUALITY_ADVISE = _r(EventType("quality.advise", "Quality advice computed", (6003, 2)))
QUALITY_LABEL = _r(EventType("quality.label", "Answer labelled in review", (6003, 3)))
del _r


class Redacted(str):
    """Marks text that has already been through the redactor and may be stored."""


def text_hash(text: str) -> str:
    """sha256 hex of the UTF-8 text: what the log keeps instead of a prompt or answer."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ask_details(*, collection: str, chunks: Iterable[dict[str, Any]], model_sha256: str,
                policy_sha256: str, redactions: dict[str, int], prompt: str, answer: str,
                latency_ms: float, adapter_sha256: str | None = None,
                path: str = "generated") -> dict[str, Any]:
    """Details for an ASK event; hashes the prompt and answer so neither is stored. `path` is
    how the answer came about (generated, quoted, refused); its reason is not logged, since
    it quotes the answer's words.

    `chunks` are dicts such as {"chunk_id": 7, "document_id": 3, "document_version": 2}.
    """
    return {
        "collection": collection,
        "chunks": [dict(c) for c in chunks],
        "model_sha256": model_sha256,
        "adapter_sha256": adapter_sha256,
        "policy_sha256": policy_sha256,
        "redactions": {str(k): int(v) for k, v in sorted(redactions.items())},
        "prompt_sha256": text_hash(prompt),
        "answer_sha256": text_hash(answer),
        "answer_path": path,
        "latency_ms": round(float(latency_ms), 3),
    }


def _check_value(path: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"audit details key {path}{key!r} must be a string")
            if key.lower() in RAW_TEXT_KEYS and item is not None and not isinstance(item, Redacted):
                raise AuditError(
                    f"audit details {path}{key!r} looks like raw text; store text_hash(...) "
                    "instead, or wrap already-redacted text in Redacted(...)")
            _check_value(f"{path}{key}.", item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_value(path, item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise AuditError(f"audit details {path.rstrip('.')} is not a finite number")
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise AuditError(f"audit details {path.rstrip('.')}: {type(value).__name__} "
                         "is not JSON (use str, int, float, bool, None, list or dict)")


def canonical_details(event_type: EventType, details: dict[str, Any] | None) -> str:
    """Validate details for `event_type` and return their canonical JSON."""
    details = details or {}
    if not isinstance(details, dict):
        raise AuditError("audit details must be a dict")
    _check_value("", details)
    missing = [key for key in event_type.required if key not in details]
    if missing:
        raise AuditError(f"{event_type.name} event needs details: {', '.join(missing)}")
    text = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    if len(text.encode("utf-8")) > MAX_DETAILS_BYTES:
        raise AuditError(f"audit details are larger than {MAX_DETAILS_BYTES} bytes")
    return text


def check_outcome(outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise AuditError(f"audit outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    return outcome


def clean_field(value: Any) -> str | None:
    """A short text field as stored: "" becomes None, control characters become \\uXXXX.

    Escaping control characters keeps every export one line per event and stops log injection
    (a user name holding a newline cannot forge a second line).
    """
    if value is None:
        return None
    text = str(value)
    if not text:
        return None
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def event_spec(event_type: str, *, actor: Any, target: Any = None, outcome: str = "success",
               source: Any = None, request_id: Any = None,
               details: dict[str, Any] | None = None) -> tuple:
    """Validate one event and return it as the tuple the chain appends."""
    kind = EVENT_TYPES.get(event_type)
    return (kind.name, clean_field(actor), clean_field(source), clean_field(target),
            check_outcome(outcome), clean_field(request_id), canonical_details(kind, details))
