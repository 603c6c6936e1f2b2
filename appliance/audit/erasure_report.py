"""Signed erasure reports: what an erasure removed (counts, ids, hashes, never text), signed
with the audit key so that anyone holding the public keys can check it offline.

The file is the report's JSON (sorted keys, two-space indent) with `key_id` and `signature`
(Ed25519 over the canonical JSON of everything but the signature); any other spelling, an
edited field or an unknown key fails verification.
"""
from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import AuditError
from .export import canonical, render_manifest
from .export_check import signature_problem
from .notes import Signer, Verifier

REPORT_KIND = "appliance.erasure-report"
REPORT_VERSION = 1


def sign_report(body: dict[str, Any], signer: Signer) -> str:
    """The report file's text."""
    body = {**body, "kind": REPORT_KIND, "report_version": REPORT_VERSION,
            "key_id": signer.key_id}
    signature = base64.b64encode(signer.sign(canonical(body))).decode("ascii")
    return render_manifest({**body, "signature": signature})


def verify_report(text: str, keyring: dict[str, Verifier]) -> dict[str, Any]:
    """The report's body when its signature holds; AuditError saying what is wrong otherwise."""
    try:
        report = json.loads(text)
    except ValueError:
        raise AuditError("the erasure report is not readable JSON") from None
    if not isinstance(report, dict) or render_manifest(report) != text:
        raise AuditError("the erasure report was edited (it is not in the form it was signed in)")
    body = {k: v for k, v in report.items() if k != "signature"}
    if body.get("kind") != REPORT_KIND:
        raise AuditError("this is not an erasure report")
    problem = signature_problem(report, keyring, "the report: it was changed after signing")
    if problem:
        raise AuditError(problem)
    return body
