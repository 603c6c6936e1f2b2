"""Export audit events to a directory: one events file in a chosen format and a signed manifest.

manifest.json lists each file with its sha256 and line count, the first and last sequence
numbers and hashes, a signed checkpoint of the last exported event, the render context, and
the key id; its Ed25519 signature covers the canonical JSON of everything but "signature".
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
from importlib import metadata
from pathlib import Path
from typing import Any

from ..errors import AuditError
from . import chain
from .events import EXPORT
from .formats import FORMATS
from .notes import Checkpoint
from .record import AuditRecord, parse_ts, utc_ts

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def render_manifest(manifest: dict) -> str:
    """The exact text of manifest.json; verification rejects any other spelling."""
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def product_version() -> str:
    try:
        return metadata.version("appliance")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _bound(text: str | None) -> str | None:
    return utc_ts(parse_ts(text)) if text else None


def export_events(log, fmt_name: str, out_dir: str | Path, *, since: str | None = None,
                  until: str | None = None, actor: str | None = None,
                  source: str | None = None) -> dict:
    """Write events with since <= ts < until to `out_dir`; returns the signed manifest.

    The chain is verified first: a broken log is never exported under a fresh signature.
    """
    fmt = FORMATS.get(fmt_name)
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AuditError(f"export directory {out} is not empty; choose a new directory")
    since_ts, until_ts = _bound(since), _bound(until)
    result = log.verify(record=False)
    if not result.ok:
        raise AuditError(f"refusing to export: {result.message()} "
                         "(run `appliance audit verify` for details)")
    out.mkdir(parents=True, exist_ok=True)
    ctx = {"host": socket.gethostname(), "product_version": product_version()}
    name = f"events.{fmt.suffix}"
    digest, count, first, last = hashlib.sha256(), 0, None, None
    with log.dialect.reading(replica=True) as conn, open(out / name, "wb") as fh:
        cur = conn.cursor()
        log.dialect.begin_read(cur)
        low, high = chain.seq_range_for_time(cur, log.dialect, since_ts, until_ts)
        if fmt.header is not None:
            _write(fh, digest, fmt.header)
        if low is not None and high is not None and low <= high:
            prev = None
            for row in chain.stream(conn, log.dialect, low, high):
                rec = AuditRecord.from_row(row)
                if (prev is not None and rec.prev_hash != prev.hash) or \
                        rec.computed_hash() != rec.hash:
                    raise AuditError(f"the audit chain changed during export at seq {rec.seq}")
                _write(fh, digest, fmt.render(rec, ctx))
                first = first or rec
                prev = last = rec
                count += 1
    signer = log.signer()
    body = {
        "manifest_version": MANIFEST_VERSION, "origin": log.origin, "format": fmt.name,
        "created": utc_ts(), "since": since_ts, "until": until_ts, "context": ctx,
        "files": [{"name": name, "sha256": digest.hexdigest(),
                   "lines": count + (fmt.header is not None)}],
        "count": count,
        "first_seq": first.seq if first else None, "last_seq": last.seq if last else None,
        "first_prev_hash": first.prev_hash if first else None,
        "last_hash": last.hash if last else None,
        "checkpoint": (Checkpoint(log.origin, last.seq, last.hash, utc_ts()).signed([signer]).note
                       if last else None),
        "key_id": signer.key_id,
    }
    manifest = dict(body, signature=base64.b64encode(signer.sign(canonical(body))).decode())
    text = render_manifest(manifest)
    (out / MANIFEST).write_text(text, encoding="utf-8")
    log.record(EXPORT, actor=actor, source=source, details={
        "format": fmt.name, "count": count, "first_seq": body["first_seq"],
        "last_seq": body["last_seq"], "since": since_ts, "until": until_ts,
        "manifest_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
    return manifest


def _write(fh, digest, line: str) -> None:
    data = line.encode("utf-8") + b"\n"
    digest.update(data)
    fh.write(data)
