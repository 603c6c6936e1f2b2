"""Quality commands: advise (the failure audit and the RAG-or-fine-tune advice) and review
(the review queue: list, next, label, export)."""
from __future__ import annotations

import getpass
from pathlib import Path

from .common import print_json, services_from


def register(sub) -> None:
    p = sub.add_parser("advise", help="the failure audit of logged answers and what to invest "
                                      "in next: RAG, fine-tuning or both (audited)")
    p.add_argument("--last", type=int, default=200, help="the newest N answers (default 200; "
                   "0: all)")
    p.add_argument("--since", default=None, help="only answers since a date (YYYY-MM-DD) or "
                   "days back (7d)")
    p.add_argument("--collection", default=None, help="only answers that searched collection C")
    p.add_argument("--include-suggestions", action="store_true",
                   help="count automatic pre-labels where no person labelled the answer")
    p.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), default=None,
                   help="the failure mix before and after a change, on the questions asked in "
                        "both windows: two dates (YYYY-MM-DD); BEFORE covers the time before "
                        "its date, AFTER the time from its date on")
    p.add_argument("--no-table", action="store_true", help="skip the decision table")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_advise)

    r = sub.add_parser("review", help="the review queue: label logged answers, correct them, "
                                      "export the corrections for training")
    rv = r.add_subparsers(dest="review_command", metavar="ACTION")
    rv.required = True
    q = rv.add_parser("list", help="answers waiting for review (down-voted first)")
    q.add_argument("--limit", type=int, default=20)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_list)
    q = rv.add_parser("next", help="the next answer to review, with its sources")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_next)
    q = rv.add_parser("label", help="label an answer (audited)")
    q.add_argument("id", type=int)
    q.add_argument("label", help="wrong_fact, wrong_format, wrong_tone, wrong_reasoning, "
                                 "retrieval_miss, correct or other")
    q.add_argument("--correction", default=None, help="the corrected answer (makes it 'edited')")
    q.add_argument("--reject", action="store_true", help="reject the answer as review material")
    q.add_argument("--reviewer", default=None, help="who labels (default: the OS user)")
    q.set_defaults(func=cmd_label)
    q = rv.add_parser("relabel", help="make the automatic pre-labels again with the rules in "
                                      "force (after an upgrade that changed them)")
    q.set_defaults(func=cmd_relabel)
    q = rv.add_parser("stats", help="how synthetic pairs fared in review (acceptance rate)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_stats)
    q = rv.add_parser("export", help="corrected answers as a `tune prepare --feedback` file")
    q.add_argument("--out", type=Path, required=True)
    q.set_defaults(func=cmd_export)


def cmd_advise(args) -> int:
    from ..evaluation import QualityService, format_advice, parse_since

    app = services_from(args)
    quality = QualityService(app)
    actor = f"cli:{getpass.getuser()}"
    if args.compare:
        before, after = (parse_since(d) for d in args.compare)
        result = quality.compare((None, before), (after, None), args.collection,
                                 args.include_suggestions)
        if args.json:
            print_json(result)
        else:
            print(format_compare(result, args.compare))
        return 0
    advice = quality.advise(args.last or None, parse_since(args.since), args.collection,
                            args.include_suggestions, actor, table=not args.no_table)
    if args.json:
        print_json(advice.to_json())
    else:
        print(format_advice(advice))
    return 0


def format_compare(result: dict, dates) -> str:
    lines = [f"{result['questions']} questions answered both before {dates[0]} and from "
             f"{dates[1]} on"]
    before, after = result["before"], result["after"]
    keys = sorted(set(before["mix"]) | set(after["mix"]))
    lines.append(f"  {'':<16} {'before':>7} {'after':>7}")
    for key in keys:
        lines.append(f"  {key:<16} {before['mix'].get(key, 0):>7} {after['mix'].get(key, 0):>7}")
    lines.append(f"  {'failures':<16} {before['failures']:>7} {after['failures']:>7}")
    for path in sorted(set(before["paths"]) | set(after["paths"])):
        lines.append(f"  {path:<16} {before['paths'].get(path, 0):>7} "
                     f"{after['paths'].get(path, 0):>7}")
    return "\n".join(lines)


def _show(e) -> str:
    lines = [f"answer {e.id}  ({e.channel}, {e.path}{': ' + e.reason if e.reason else ''})",
             f"Q: {e.question}", f"A: {e.answer}"]
    if e.model_answer and e.model_answer != e.answer:
        lines.append(f"model said: {e.model_answer}")
    for i, p in enumerate(e.shown, start=1):
        lines.append(f"  [{i}] ({p['doc_name']}) {p['text'][:300]}")
    if e.feedback:
        lines.append(f"user: {e.feedback['rating']}"
                     + (f" ({e.feedback['category']})" if e.feedback.get("category") else ""))
    lines.append(f"suggested: {e.suggestion or '-'} ({e.suggestion_reason})")
    return "\n".join(lines)


def _entry_json(e) -> dict:
    return dict(e.__dict__)


def cmd_list(args) -> int:
    from ..evaluation import QualityService

    items = QualityService(services_from(args)).queue(args.limit)
    if args.json:
        print_json([_entry_json(e) for e in items])
        return 0
    if not items:
        print("nothing waiting for review")
    for e in items:
        vote = (e.feedback or {}).get("rating", "")
        print(f"{e.id:>6}  {e.path:<9} {vote:<4} {e.suggestion or '-':<16} {e.question[:70]}")
    return 0


def cmd_next(args) -> int:
    from ..evaluation import QualityService

    items = QualityService(services_from(args)).queue(1)
    if args.json:
        print_json(_entry_json(items[0]) if items else None)
    else:
        print(_show(items[0]) if items else "nothing waiting for review")
    return 0


def cmd_label(args) -> int:
    from ..evaluation import QualityService

    review = "rejected" if args.reject else ("edited" if args.correction else "accepted")
    reviewer = args.reviewer or f"cli:{getpass.getuser()}"
    entry = QualityService(services_from(args)).label(args.id, args.label, reviewer, review,
                                                      args.correction)
    print(f"answer {entry.id}: {entry.label} ({entry.review})")
    return 0


def cmd_relabel(args) -> int:
    from ..evaluation import QualityService

    app = services_from(args)
    cleared = app.answer_log.clear_suggestions()
    made = QualityService(app).entries(None)
    print(f"{cleared} pre-label(s) cleared; {len(made)} answer(s) pre-labelled with the rules "
          f"in force (people's labels are untouched)")
    return 0


def cmd_stats(args) -> int:
    from ..evaluation import QualityService

    stats = QualityService(services_from(args)).synthetic_acceptance()
    if args.json:
        print_json(stats)
        return 0
    rate = stats["acceptance_rate"]
    print(f"synthetic pairs: {stats['reviewed']} reviewed ({stats['accepted']} accepted "
          f"unedited, {stats['edited']} edited, {stats['rejected']} rejected), "
          f"{stats['pending']} waiting; acceptance "
          + ("n/a" if rate is None else f"{100 * rate:.0f}%"))
    return 0


def cmd_export(args) -> int:
    from ..evaluation import QualityService

    n = QualityService(services_from(args)).export_corrections(args.out)
    print(f"{n} corrected answer(s) written to {args.out} (next: appliance tune prepare "
          f"--feedback {args.out} --name reviewed)")
    return 0
