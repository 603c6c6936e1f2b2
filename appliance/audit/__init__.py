"""Tamper-evident audit log: hash-chained rows, Ed25519-signed checkpoints, signed exports.

Public surface (see docs/audit.md):
    AuditLog(store, settings)   .record(...) -> seq, .verify(...), .checkpoint(), .close()
    ensure_keys(settings)       create the signing key at `appliance init`; returns its key id
    event type constants        LOGIN_SUCCESS, ASK, INGEST, DOC_VERSION, DOC_DELETE, ...
    text_hash(s), Redacted(s), ask_details(...)   keep raw prompts and answers out of the log
    OversightService, AuditFilter, pretty_details  the log as auditors browse it (web, API)
    FORMATS, verify_export                export formats; offline check of an export
    load_keyring, parse_keyring, keyring_text      verification keys
    prune, place_hold, release_hold, active_holds  retention and legal holds
"""
from .events import (
                     ACCOUNT_CREATE,
                     ACCOUNT_DELETE,
                     ACCOUNT_UPDATE,
                     ADAPTER_ACTIVATE,
                     ADAPTER_DEACTIVATE,
                     ASK,
                     DOC_DELETE,
                     DOC_VERSION,
                     EVENT_TYPES,
                     EXPORT,
                     HOLD_RELEASE,
                     HOLD_SET,
                     INGEST,
                     KEY_ROTATE,
                     LOGIN_FAILURE,
                     LOGIN_SUCCESS,
                     LOGOUT,
                     OUTCOMES,
                     POLICY_CHANGE,
                     RETENTION_PRUNE,
                     ROLE_CHANGE,
                     SESSION_REVOKED,
                     TOKEN_CREATE,
                     TOKEN_REVOKE,
                     VERIFY,
                     EventType,
                     Redacted,
                     ask_details,
                     text_hash,
)
from .export_check import verify_export
from .formats import FORMATS
from .keys import ensure_keys, keyring_text, load_keyring, parse_keyring
from .log import AuditLog
from .notes import Checkpoint
from .oversight import AuditFilter, OversightService, pretty_details
from .retention import active_holds, place_hold, prune, release_hold
from .verify import VerifyResult

__all__ = [
    "AuditLog", "Checkpoint", "VerifyResult", "ensure_keys", "text_hash", "Redacted",
    "OversightService", "AuditFilter", "pretty_details", "FORMATS", "verify_export",
    "keyring_text", "load_keyring", "parse_keyring", "active_holds", "place_hold", "prune",
    "release_hold",
    "ask_details", "EventType", "EVENT_TYPES", "OUTCOMES",
    "LOGIN_SUCCESS", "LOGIN_FAILURE", "LOGOUT", "SESSION_REVOKED", "ACCOUNT_CREATE",
    "ACCOUNT_UPDATE", "ACCOUNT_DELETE", "ROLE_CHANGE", "TOKEN_CREATE", "TOKEN_REVOKE", "INGEST",
    "DOC_VERSION", "DOC_DELETE", "ASK", "POLICY_CHANGE", "ADAPTER_ACTIVATE", "ADAPTER_DEACTIVATE",
    "EXPORT", "VERIFY", "RETENTION_PRUNE", "KEY_ROTATE", "HOLD_SET", "HOLD_RELEASE",
]
