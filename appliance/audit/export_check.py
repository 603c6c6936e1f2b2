"""Verify an export directory offline, with nothing but the public key(s).

Finds a forged or edited manifest, added or deleted files, and, line by line, edited, added,
deleted and reordered lines. Any byte that differs from what was signed is reported.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AuditError
from .export import MANIFEST, MANIFEST_VERSION, canonical, render_manifest
from .formats import FORMATS, ExportFormat, FormatError
from .notes import Checkpoint, Verifier


@dataclass(frozen=True)
class Problem:
    kind: str  # forged manifest | added | deleted | edited | reordered
    message: str
    file: str | None = None
    line: int | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.file, self.line and f"line {self.line}",
                                      self.seq is not None and f"seq {self.seq}") if p)
        return f"{self.kind}{f' ({where})' if where else ''}: {self.message}"


@dataclass
class ExportCheck:
    """The result of verify_export: ok, events checked, and every problem found."""

    count: int = 0
    problems: list[Problem] = field(default_factory=list)
    format: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def message(self) -> str:
        if self.ok:
            return f"OK {self.count} events ({self.format})"
        at = f" at seq {self.first_bad_seq}" if self.first_bad_seq is not None else ""
        return f"FAILED{at}: {self.problems[0]}"


class _Forged(Exception):
    pass


def signature_problem(document: dict, keyring: dict[str, Verifier], what: str) -> str | None:
    """Why a signed JSON document (its `key_id`, and a base64 Ed25519 `signature` over the
    canonical JSON of everything else) does not verify; None when it does."""
    body = {k: v for k, v in document.items() if k != "signature"}
    verifier = keyring.get(str(body.get("key_id")))
    if verifier is None:
        return f"signed by unknown key {body.get('key_id')!r} (not in the public keys)"
    try:
        signature = base64.b64decode(str(document.get("signature")), validate=True)
    except (binascii.Error, ValueError):
        return "signature is not base64"
    if base64.b64encode(signature).decode("ascii") != document.get("signature"):
        # b64decode ignores the unused low bits of the last character: a respelled signature
        # decodes to the same bytes, so it would verify over a document that was changed
        return "the signature is not in the form it was signed in"
    if not verifier.verify(canonical(body), signature):
        return f"the signature does not match {what}"
    return None


def _open_manifest(folder: Path, keyring: dict[str, Verifier]) -> dict:
    try:
        text = (folder / MANIFEST).read_bytes().decode("utf-8")
        manifest = json.loads(text)
    except FileNotFoundError:
        raise _Forged(f"{MANIFEST} is missing") from None
    except (UnicodeDecodeError, ValueError):
        raise _Forged(f"{MANIFEST} is not readable JSON") from None
    if not isinstance(manifest, dict) or render_manifest(manifest) != text:
        raise _Forged(f"{MANIFEST} was edited (it is not in the form it was signed in)")
    body = {k: v for k, v in manifest.items() if k != "signature"}
    problem = signature_problem(manifest, keyring, "the manifest")
    if problem:
        raise _Forged(problem)
    if body.get("manifest_version") != MANIFEST_VERSION:
        raise _Forged(f"unsupported manifest_version {body.get('manifest_version')!r}")
    files = body.get("files")
    if not isinstance(files, list) or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) and "/" not in f["name"]
            and "\\" not in f["name"] and not f["name"].startswith(".") for f in files):
        raise _Forged("file list is malformed")
    if body.get("count"):
        try:
            cp = Checkpoint.open(body.get("checkpoint") or "", keyring)
        except AuditError as exc:
            raise _Forged(f"its checkpoint is forged: {exc}") from None
        if (cp.origin, cp.size, cp.head_hash) != (body.get("origin"), body.get("last_seq"),
                                                  body.get("last_hash")):
            raise _Forged("its checkpoint does not match the last exported event")
    return body


def verify_export(folder: str | Path, keyring: dict[str, Verifier]) -> ExportCheck:
    """Check an export directory against its signed manifest; never raises for tampering."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AuditError(f"export directory {folder} does not exist")
    check = ExportCheck()
    try:
        return _verify(folder, keyring, check)
    except (OSError, ValueError, TypeError, AttributeError, KeyError, IndexError,
            RecursionError) as exc:  # a file replaced by a folder, a manifest of another shape
        check.problems.append(Problem("unreadable", f"the export cannot be read as written "
                                                    f"({type(exc).__name__}: {exc})"[:300]))
        return check


def _verify(folder: Path, keyring: dict[str, Verifier], check: ExportCheck) -> ExportCheck:
    try:
        body = _open_manifest(folder, keyring)
        fmt = FORMATS.get(body.get("format"))
    except (_Forged, AuditError) as exc:
        check.problems.append(Problem("forged manifest", str(exc)))
        return check
    check.format = fmt.name
    listed = [f["name"] for f in body["files"]]
    for extra in sorted(p.name for p in folder.iterdir() if p.name not in listed + [MANIFEST]):
        check.problems.append(Problem("added", "file is not in the manifest", file=extra))
    entries, changed = [], []
    for spec in body["files"]:
        entries += _read_file(folder, spec, fmt, body.get("context") or {}, check, changed)
    _check_sequence(entries, body, check)
    for name in changed:  # the backstop: any other byte change still fails
        if not any(p.file == name for p in check.problems):
            check.problems.append(Problem("edited", "content differs from the manifest's "
                                                    "sha256", name))
    check.count = sum(1 for e in entries if e[2] is not None)
    check.problems.sort(key=lambda p: (p.file or "", p.line or 0))
    return check


def _read_file(folder: Path, spec: dict, fmt: ExportFormat, ctx: dict, check: ExportCheck,
               changed: list[str]):
    """(file, line number, record or None) for each line; line-level problems go to check."""
    name = spec["name"]
    try:
        data = (folder / name).read_bytes()
    except FileNotFoundError:
        check.problems.append(Problem("deleted", "file listed in the manifest is missing", name))
        return []
    if hashlib.sha256(data).hexdigest() != spec.get("sha256"):
        changed.append(name)
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    elif data:
        check.problems.append(Problem("edited", "the last line is cut short", name, len(lines)))
    out = []
    for number, raw in enumerate(lines, start=1):
        if number == 1 and fmt.header is not None:
            if raw != fmt.header.encode("utf-8"):
                check.problems.append(Problem("edited", "header line was changed", name, 1))
            continue
        if raw == b"":
            check.problems.append(Problem("added", "blank line", name, number))
            continue
        out.append(_read_line(name, number, raw, fmt, ctx, check))
    return out


def _read_line(name, number, raw: bytes, fmt: ExportFormat, ctx: dict, check: ExportCheck):
    try:
        line = raw.decode("utf-8")
        rec = fmt.parse(line, ctx)
        if fmt.render(rec, ctx) != line:
            check.problems.append(Problem("edited", "line differs from the event it holds",
                                          name, number, rec.seq))
        elif rec.computed_hash() != rec.hash:
            check.problems.append(Problem("edited", "content does not match its hash",
                                          name, number, rec.seq))
        return (name, number, rec, None)
    except (UnicodeDecodeError, FormatError, ValueError, KeyError, TypeError) as exc:
        return (name, number, None, str(exc)[:120] or type(exc).__name__)


def _gaps(present: list[int], first: int, last: int) -> list[tuple[int, int]]:
    """The runs of [first, last] not in the sorted list present."""
    gaps, expect = [], first
    for seq in present + [last + 1]:
        if seq > expect:
            gaps.append((expect, seq - 1))
        expect = max(expect, seq + 1)
    return gaps


def _check_sequence(entries: list, body: dict, check: ExportCheck) -> None:
    """Added, deleted, reordered and unlinked lines, from the sequence numbers lines carry."""
    first, last = body.get("first_seq"), body.get("last_seq")
    bounded = isinstance(first, int) and isinstance(last, int)

    def in_range(seq) -> bool:  # never a set of the range: a signed last_seq can be huge
        return bounded and isinstance(seq, int) and first <= seq <= last

    flagged = {p.seq for p in check.problems if p.seq is not None}
    seen: dict[int, tuple] = {}
    ordered = []
    for name, number, rec, _why in entries:
        if rec is None:
            continue
        if not in_range(rec.seq):
            check.problems.append(Problem("added", "sequence number outside the exported range",
                                          name, number, rec.seq))
        elif rec.seq in seen:
            check.problems.append(Problem(
                "added", f"repeats seq {rec.seq} (first on line {seen[rec.seq][1]})",
                name, number, rec.seq))
        else:
            seen[rec.seq] = (name, number, rec)
            ordered.append((name, number, rec))
    accounted = set(seen)
    for index, (name, number, rec, why) in enumerate(entries):
        if rec is None:
            guess = first + index if bounded else None
            seq = guess if in_range(guess) and guess not in accounted else None
            if seq is not None:
                accounted.add(seq)
            check.problems.append(Problem("edited", f"line cannot be read ({why})",
                                          name, number, seq))
    file = body["files"][0]["name"] if body["files"] else None
    for low, high in _gaps(sorted(accounted), first, last) if bounded else ():
        what = f"event {low} is" if low == high else f"events {low}..{high} are"
        check.problems.append(Problem("deleted", f"{what} missing", file, None, low))
    for (_, _, before), (name, number, rec) in zip(ordered, ordered[1:]):
        if rec.seq < before.seq:
            check.problems.append(Problem("reordered", f"seq {rec.seq} comes after seq "
                                                       f"{before.seq}", name, number, rec.seq))
    by_seq = {rec.seq: (name, number, rec) for name, number, rec in ordered}
    for seq, (name, number, rec) in sorted(by_seq.items()):
        if seq in flagged:
            continue
        want = body.get("first_prev_hash") if seq == first else (
            by_seq[seq - 1][2].hash if seq - 1 in by_seq else None)
        if want is not None and rec.prev_hash != want:
            check.problems.append(Problem("edited", f"does not link to seq {seq - 1}",
                                          name, number, seq))
        elif seq == last and rec.hash != body.get("last_hash"):
            check.problems.append(Problem("edited", "last event differs from the manifest",
                                          name, number, seq))
