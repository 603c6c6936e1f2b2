"""OCSF 1.1.0 events as JSON Lines.

Classes: Authentication [3002] for logins, Account Change [3001] for accounts, roles and API
tokens, API Activity [6003] for everything else. Every event carries the base required
attributes (activity_id, category_uid, class_uid, metadata with product and version,
severity_id, time, type_uid) and its class's required ones (user; actor, api, src_endpoint).
The stored row travels in `unmapped.appliance_audit` so the export verifies offline.
"""
from __future__ import annotations

import ipaddress
import json

from ..events import EVENT_TYPES
from ..record import AuditRecord
from .base import ExportFormat, FormatError, epoch_ms

OCSF_VERSION = "1.1.0"
CLASSES = {
    3001: ("Account Change", 3, "Identity & Access Management"),
    3002: ("Authentication", 3, "Identity & Access Management"),
    6003: ("API Activity", 6, "Application Activity"),
}
ACTIVITIES = {
    3001: {1: "Create", 6: "Delete", 99: "Other"},
    3002: {1: "Logon", 2: "Logoff", 99: "Other"},
    6003: {1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"},
}
SEVERITY = {"success": (1, "Informational"), "failure": (2, "Low"), "denied": (3, "Medium"),
            "error": (3, "Medium")}


def _endpoint(source: str | None) -> dict:
    if source is None:
        return {"name": "unknown"}
    try:
        is_ip = str(ipaddress.ip_address(source)) == source
    except ValueError:
        is_ip = False
    return {"ip": source} if is_ip else {"name": source}


def render(rec: AuditRecord, ctx: dict) -> str:
    class_uid, activity_id = (EVENT_TYPES.get(rec.type).ocsf if rec.type in EVENT_TYPES
                              else (6003, 99))
    class_name, category_uid, category_name = CLASSES[class_uid]
    activity = ACTIVITIES[class_uid].get(activity_id, "Other")
    severity_id, severity = SEVERITY.get(rec.outcome, (0, "Unknown"))
    ok = rec.outcome == "success"
    ms = epoch_ms(rec.ts)
    event = {
        "activity_id": activity_id, "activity_name": activity,
        "category_uid": category_uid, "category_name": category_name,
        "class_uid": class_uid, "class_name": class_name,
        "type_uid": class_uid * 100 + activity_id, "type_name": f"{class_name}: {activity}",
        "severity_id": severity_id, "severity": severity,
        "status_id": 1 if ok else 2, "status": "Success" if ok else "Failure",
        "time": ms,
        "message": EVENT_TYPES.get(rec.type).title if rec.type in EVENT_TYPES else rec.type,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "appliance", "vendor_name": "appliance",
                        "version": ctx.get("product_version", "")},
            "uid": rec.hash, "log_name": "audit", "original_time": rec.ts, "logged_time": ms,
        },
        "actor": {"user": {"name": rec.actor}} if rec.actor else {"app_name": "appliance"},
        "src_endpoint": _endpoint(rec.source),
        "unmapped": {"appliance_audit": rec.as_dict()},
    }
    if not ok:
        event["status_detail"] = rec.outcome
    if rec.request_id is not None:
        event["metadata"]["correlation_uid"] = rec.request_id
    if class_uid == 3002:
        event["user"] = {"name": rec.actor or rec.target or "unknown"}
        event["service"] = {"name": "appliance"}
    elif class_uid == 3001:
        event["user"] = {"name": rec.target or rec.actor or "unknown"}
    else:
        event["api"] = {"operation": rec.type, "service": {"name": "appliance"}}
        if rec.target is not None:
            event["resources"] = [{"name": rec.target}]
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse(line: str, ctx: dict) -> AuditRecord:
    try:
        data = json.loads(line)
        return AuditRecord.from_dict(data["unmapped"]["appliance_audit"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(f"not an OCSF audit event: {exc}") from None


FORMAT = ExportFormat("ocsf", "ocsf.jsonl", render, parse,
                      description=f"OCSF {OCSF_VERSION} events, one JSON object per line")
