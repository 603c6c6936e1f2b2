"""`appliance erase`: the right to erasure (docs/erasure.md)."""
from __future__ import annotations

import sys

from .common import print_json, services_from


def register(sub) -> None:
    p = sub.add_parser("erase", help="erase a document, a data subject or a user's data "
                                     "everywhere, with a signed report")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--document", type=int, metavar="ID", help="one document")
    target.add_argument("--subject", metavar="TEXT",
                        help="every mention of a person or identifier (name, staff number, "
                             "e-mail), as written or as the policy's hash tag")
    target.add_argument("--user", metavar="NAME",
                        help="a user's conversations, feedback and logged answers")
    target.add_argument("--expired", action="store_true",
                        help="what the retention settings say has expired")
    p.add_argument("--dry-run", action="store_true", help="show what would be removed, remove "
                                                          "nothing")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_erase)


def cmd_erase(args) -> int:
    app = services_from(args)
    plan = app.erasure.plan(args.document, args.subject, args.user, args.expired)
    counts = plan.scope.counts()
    if args.json and (args.dry_run or plan.scope.empty):
        print_json({"dry_run": True, "target": {"kind": plan.target_kind,
                                                "sha256": plan.target_sha256},
                    "would_remove": counts, "watched_files": plan.scope.source_files})
        return 0
    if not args.json:
        _show(plan)
    if plan.scope.empty or args.dry_run:
        if not args.json:
            print("nothing to remove" if plan.scope.empty else "dry run: nothing removed")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("refusing to erase without confirmation: add --yes", file=sys.stderr)
            return 2
        if input("erase all of this? type 'erase' to go on: ").strip() != "erase":
            print("nothing removed")
            return 1
    done = app.erasure.erase(plan, subject=args.subject)
    if args.json:
        print_json({"dry_run": False, "removed": counts, "report": str(done.report_path),
                    "remaining": done.remaining, "adapters_deactivated": done.deactivated})
        return 0
    print(f"erased; signed report: {done.report_path}")
    print(f"  check it offline: appliance audit verify-erasure {done.report_path}")
    if done.remaining and any(done.remaining.values()):
        print(f"  still found after erasing: {done.remaining}")
    if done.deactivated:
        print(f"  adapter(s) taken out of service: {done.deactivated} (retrain without the "
              "erased examples)")
    return 0


def _show(plan) -> None:
    scope = plan.scope
    print(f"erasure of a {plan.target_kind} ({plan.target_sha256[:16]}…):")
    for key, value in scope.counts().items():
        if value:
            print(f"  {value:6d} {key.replace('_', ' ')}")
    for d in scope.documents[:20]:
        print(f"         document {d['id']} {d['name']} (v{d['version']}, {d['collection']})")
    for name, n in scope.dataset_examples.items():
        print(f"         training set {name}: {n} example(s)")
    for f in scope.source_files:
        print(f"  note: watched file {f['file']} (source {f['source']}) still holds it; it "
              "stays out until it changes: remove or change it at its origin")
