"""`appliance pii detect|redact` and `appliance policy check|list`."""
from __future__ import annotations

import json
import sys
from collections import Counter
from itertools import islice

from ..errors import PolicyError


def register(sub) -> None:
    pii = sub.add_parser("pii", help="detect or redact personal data").add_subparsers(
        dest="pii_command", metavar="ACTION")
    pii.required = True
    detect = pii.add_parser("detect", help='JSON lines {"text": ...} on stdin -> {"entities": [...]} on stdout')
    detect.add_argument("--policy", help="policy name or YAML path (default: the pii_policy setting)")
    detect.add_argument("--no-ner", action="store_true", help="skip PERSON/LOCATION/ORGANIZATION")
    detect.add_argument("--batch", type=int, default=32,
                        help="lines per batch (NER is faster in batches; 1 for request/response use)")
    detect.set_defaults(func=_detect)
    redact = pii.add_parser("redact", help="redact a text file line by line")
    redact.add_argument("file", nargs="?", default="-", help="text file, or - for stdin")
    redact.add_argument("--policy", help="policy name or YAML path (default: the pii_policy setting)")
    redact.add_argument("--path", default="ingest", help="enforcement path whose rules apply (default: ingest)")
    redact.add_argument("--no-ner", action="store_true", help="skip PERSON/LOCATION/ORGANIZATION")
    redact.set_defaults(func=_redact)

    policy = sub.add_parser("policy", help="check or list PII policies").add_subparsers(
        dest="policy_command", metavar="ACTION")
    policy.required = True
    check = policy.add_parser("check", help="validate a policy file")
    check.add_argument("file")
    check.set_defaults(func=_check)
    listing = policy.add_parser("list", help="list the installed policies")
    listing.set_defaults(func=_list)


def _settings(args):
    from .common import settings_from
    return settings_from(args)


def _redactor(args, need_secret: bool):
    from ..privacy import NER_TYPES, Redactor, build_redactor, load_settings_policy
    settings = _settings(args)
    policy = load_settings_policy(settings, args.policy)
    if args.no_ner:
        policy = policy.without_types(NER_TYPES)
    if not need_secret:
        # Detection never hashes, so it needs no secret (and creates none); a throwaway key.
        import secrets

        from ..privacy import default_tagger
        return Redactor(policy, secrets.token_bytes(32), ner=default_tagger() if policy.uses_ner else None)
    return build_redactor(settings, policy)


def _detect(args) -> int:
    if args.batch < 1:
        raise PolicyError("--batch must be at least 1")
    redactor = _redactor(args, need_secret=False)
    lines = (line for line in sys.stdin if line.strip())
    number = 0
    while True:
        chunk = list(islice(lines, args.batch))
        if not chunk:
            return 0
        texts = []
        for line in chunk:
            number += 1
            texts.append(_text_of(line, number))
        for findings in redactor.detect_many(texts):
            sys.stdout.write(json.dumps({"entities": [f.as_dict() for f in findings]}) + "\n")
        sys.stdout.flush()


def _text_of(line: str, number: int) -> str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PolicyError(f"stdin line {number}: not JSON ({exc.msg})") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise PolicyError(f'stdin line {number}: expected an object with a "text" string')
    return record["text"]


def _redact(args) -> int:
    from ..privacy import PATHS
    if args.path not in PATHS:
        raise PolicyError(f"--path must be one of {', '.join(PATHS)}")
    redactor = _redactor(args, need_secret=True)
    scope = f"cli:{args.file}"
    totals: Counter[str] = Counter()
    stream = sys.stdin if args.file == "-" else _open(args.file)
    try:
        for line in stream:
            result = redactor.redact(line, args.path, scope=scope)
            totals.update(result.counts)
            sys.stdout.write(result.text)
    finally:
        if stream is not sys.stdin:
            stream.close()
    summary = ", ".join(f"{k}={v}" for k, v in sorted(totals.items())) or "nothing"
    print(f"redacted: {summary}", file=sys.stderr)
    return 0


def _open(path: str):
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise PolicyError(f"{path}: {exc.strerror}") from None


def _check(args) -> int:
    from ..privacy import load_policy
    policy = load_policy(args.file)
    print(f"ok: {args.file}: policy {policy.name!r}, {len(policy.entities)} entity types, "
          f"paths {', '.join(sorted(policy.paths))}, sha256 {policy.sha256}")
    return 0


def _list(args) -> int:
    from ..privacy import list_policies, load_policy, policies_root
    root = policies_root(_settings(args))
    for path in list_policies(root):
        policy = load_policy(path)
        summary = " ".join(policy.description.split())
        summary = summary if len(summary) <= 72 else summary[:71] + "…"
        print(f"{policy.name:<10} {policy.sha256[:12]}  {len(policy.entities):>2} types  {summary}")
    return 0


__all__ = ["register"]
