"""Tamper-evident audit log: hash-chained rows, Ed25519-signed checkpoints, signed exports.

Public surface (see docs/audit.md):
    AuditLog(store, settings)   .record(...) -> seq, .verify(...), .checkpoint(), .close()
    sign_report, verify_report  signed erasure reports, checked offline with the public keys
    ensure_keys(settings)       create the signing key at `appliance init`; returns its key id
    event type constants        LOGIN_SUCCESS, ASK, INGEST, DOC_VERSION, DOC_DELETE, ...
    text_hash(s), Redacted(s), ask_details(...)   keep raw prompts and answers out of the log
    OversightService, AuditFilter, pretty_details  the log as auditors browse it (web, API)
    FORMATS, verify_export                export formats; offline check of an export
    load_keyring, parse_keyring, keyring_text      verification keys
    prune, place_hold, release_hold, active_holds  retention and legal holds
"""
from importlib import import_module

# Lazy, so a command that only records events (ask, ingest) does not import the export,
# verification and oversight code.
_HOMES = {
    **dict.fromkeys([
        "ACCOUNT_CREATE", "ACCOUNT_DELETE", "ACCOUNT_UPDATE", "ADAPTER_ACTIVATE",
        "ADAPTER_DEACTIVATE", "ASK", "DOC_DELETE", "DOC_VERSION", "EVENT_TYPES", "EXPORT",
        "EventType", "HOLD_RELEASE", "HOLD_SET", "INGEST", "KEY_ROTATE", "LOGIN_FAILURE",
        "LOGIN_SUCCESS", "LOGOUT", "OUTCOMES", "POLICY_CHANGE", "QUALITY_ADVISE",
        "QUALITY_LABEL", "RETENTION_PRUNE",
        "ROLE_CHANGE", "Redacted", "SESSION_REVOKED", "TOKEN_CREATE", "TOKEN_REVOKE",
        "VERIFY", "ask_details", "text_hash"], "events"),
    **dict.fromkeys(["verify_export"], "export_check"),
    **dict.fromkeys(["sign_report", "verify_report"], "erasure_report"),
    **dict.fromkeys(["FORMATS"], "formats"),
    **dict.fromkeys(["product_version"], "export"),
    **dict.fromkeys(["ensure_keys", "keyring_text", "load_keyring", "load_signer",
                     "parse_keyring"], "keys"),
    **dict.fromkeys(["AuditLog"], "log"),
    **dict.fromkeys(["Checkpoint"], "notes"),
    **dict.fromkeys(["AuditFilter", "OversightService", "pretty_details"], "oversight"),
    **dict.fromkeys(["active_holds", "place_hold", "prune", "release_hold"], "retention"),
    **dict.fromkeys(["VerifyResult"], "verify"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value
