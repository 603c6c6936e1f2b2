"""`appliance audit ...`: verify, export, verify-export, checkpoint, pubkey, rotate-key, prune, hold."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ..errors import AuditError

MAX_PROBLEMS_SHOWN = 50


def register(subparsers) -> None:
    audit = subparsers.add_parser(
        "audit", help="verify, export and manage the tamper-evident audit log",
        description="The audit log is hash-chained and signed; these commands prove it.")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("verify", help="verify the hash chain and signed checkpoints")
    p.add_argument("--checkpoint", metavar="FILE",
                   help="a checkpoint kept outside the database (detects a rollback)")
    p.set_defaults(func=cmd_verify)

    from ..audit import FORMATS
    p = sub.add_parser("export", help="export events with a signed manifest")
    p.add_argument("--format", required=True, choices=FORMATS.names())
    p.add_argument("--since", help="first time to include (ISO 8601, UTC if no zone)")
    p.add_argument("--until", help="time to stop before (ISO 8601)")
    p.add_argument("--out", required=True, metavar="DIR", help="new or empty directory")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("verify-export", help="verify an export directory offline")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--pubkey", metavar="FILE",
                   help="public key file (from `appliance audit pubkey`); default: this box's")
    p.set_defaults(func=cmd_verify_export)

    p = sub.add_parser("verify-erasure", help="verify a signed erasure report offline")
    p.add_argument("report", metavar="FILE")
    p.add_argument("--pubkey", metavar="FILE",
                   help="public keys (from `appliance audit pubkey --out FILE`); default: this "
                        "data dir's")
    p.set_defaults(func=cmd_verify_erasure)

    p = sub.add_parser("checkpoint", help="sign a checkpoint of the log now and print it")
    p.set_defaults(func=cmd_checkpoint)

    p = sub.add_parser("pubkey", help="print the public keys that verify checkpoints and exports")
    p.add_argument("--out", metavar="FILE", help="write them to FILE instead")
    p.set_defaults(func=cmd_pubkey)

    p = sub.add_parser("rotate-key", help="replace the signing key (recorded in the log)")
    p.set_defaults(func=cmd_rotate_key)

    p = sub.add_parser("prune", help="remove events older than audit_retention_days")
    p.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    p.set_defaults(func=cmd_prune)

    p = sub.add_parser("hold", help="place, release or list legal holds")
    hold = p.add_subparsers(dest="hold_command", metavar="ACTION")
    hold.required = True
    h = hold.add_parser("set", help="keep events from --since (default: all) until released")
    h.add_argument("name")
    h.add_argument("--since", help="keep events from this time on (ISO 8601)")
    h.add_argument("--reason", default="", help="why (case number, request)")
    h.set_defaults(func=cmd_hold_set)
    h = hold.add_parser("release", help="end a legal hold")
    h.add_argument("name")
    h.set_defaults(func=cmd_hold_release)
    h = hold.add_parser("list", help="show active legal holds")
    h.set_defaults(func=cmd_hold_list)


def _settings(args):
    from .common import settings_from

    return settings_from(args)


def _log(args):
    from ..audit import AuditLog
    from ..store import Store

    settings = _settings(args)
    return AuditLog(Store(settings.db_url, settings.database_read_url), settings)


def _actor() -> str:
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def cmd_verify(args: argparse.Namespace) -> int:
    log = _log(args)
    result = log.verify(args.checkpoint, actor=_actor())
    log.close()
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(result.message())
    return 0 if result.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    log = _log(args)
    manifest = log.export(args.format, args.out, since=args.since, until=args.until,
                          actor=_actor(), source="cli")
    log.close()
    span = (f"seq {manifest['first_seq']}..{manifest['last_seq']}" if manifest["count"]
            else "no events")
    print(f"wrote {manifest['count']} events ({span}) as {manifest['format']} to {args.out}; "
          f"manifest signed by {manifest['key_id']}")
    return 0


def _keyring(args: argparse.Namespace):
    from ..audit import load_keyring, parse_keyring

    if args.pubkey:
        try:
            keyring = parse_keyring(Path(args.pubkey).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditError(f"cannot read public key file {args.pubkey}: {exc}") from None
        if not keyring:
            raise AuditError(f"public key file {args.pubkey} holds no key")
        return keyring
    try:
        return load_keyring(_settings(args))
    except AuditError:
        raise AuditError("no public key: pass --pubkey FILE "
                         "(made by `appliance audit pubkey --out FILE`)") from None


def cmd_verify_export(args: argparse.Namespace) -> int:
    from ..audit import verify_export

    check = verify_export(args.dir, _keyring(args))
    for problem in check.problems[:MAX_PROBLEMS_SHOWN]:
        print(problem)
    if len(check.problems) > MAX_PROBLEMS_SHOWN:
        print(f"... and {len(check.problems) - MAX_PROBLEMS_SHOWN} more problems")
    print(check.message())
    return 0 if check.ok else 1


def cmd_verify_erasure(args: argparse.Namespace) -> int:
    from ..audit import verify_report

    try:
        text = Path(args.report).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"cannot read {args.report}: {exc}") from None
    try:
        body = verify_report(text, _keyring(args))
    except AuditError as exc:
        print(f"FAILED: {exc}")
        return 1
    removed = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in body["removed"].items() if v)
    print(f"OK: erasure of a {body['target']['kind']} ({body['target']['sha256'][:16]}…) on "
          f"{body['created_at']} by {body['actor']}, signed by {body['key_id']}: "
          f"{removed or 'nothing found to remove'}")
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    log = _log(args)
    print(log.checkpoint().note, end="")
    return 0


def cmd_pubkey(args: argparse.Namespace) -> int:
    from ..audit import keyring_text

    text = keyring_text(_settings(args))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {len(text.splitlines())} public key(s) to {args.out}")
    else:
        print(text, end="")
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    log = _log(args)
    key_id = log.rotate_key(actor=_actor(), source="cli")
    print(f"new audit signing key {key_id}; the old public key stays in the keyring")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from ..audit import prune

    log = _log(args)
    result = prune(log, actor=_actor(), dry_run=args.dry_run, source="cli")
    log.close()
    print(result.message())
    if not args.dry_run:  # the answer log follows the same retention
        import time

        from .common import services_from

        app = services_from(args)
        days = app.settings.audit_retention_days
        removed = app.answer_log.prune(time.time() - days * 86400)
        print(f"answer log: {removed} answer(s) older than {days} days removed")
    return 0


def cmd_hold_set(args: argparse.Namespace) -> int:
    from ..audit import place_hold

    log = _log(args)
    seq = place_hold(log, args.name, actor=_actor(), since=args.since, reason=args.reason,
                     source="cli")
    log.close()
    print(f"legal hold {args.name!r} placed (event {seq})")
    return 0


def cmd_hold_release(args: argparse.Namespace) -> int:
    from ..audit import release_hold

    log = _log(args)
    seq = release_hold(log, args.name, actor=_actor(), source="cli")
    log.close()
    print(f"legal hold {args.name!r} released (event {seq})")
    return 0


def cmd_hold_list(args: argparse.Namespace) -> int:
    from ..audit import active_holds

    holds = active_holds(_log(args))
    for hold in holds:
        print(f"{hold.name}\tsince {hold.since or 'the beginning'}\t{hold.reason}")
    if not holds:
        print("no active legal holds")
    return 0
