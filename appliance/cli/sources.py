"""`appliance sources ...`: watched folders a collection mirrors (docs/sources.md)."""
from __future__ import annotations

import signal
import threading
import time

from .common import ago, print_json, services_from, show_progress


def register(sub) -> None:
    p = sub.add_parser("sources", help="watched folders kept in sync with a collection")
    ss = p.add_subparsers(dest="sources_command", metavar="ACTION")
    ss.required = True

    a = ss.add_parser("add", help="watch a folder (local or mounted) and sync it now")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--collection", help="collection it feeds (default: default_collection)")
    a.add_argument("--include", action="append", metavar="GLOB",
                   help="only files matching (repeatable; '*.md', 'policies/*')")
    a.add_argument("--exclude", action="append", metavar="GLOB",
                   help="leave out files matching (repeatable; 'drafts/', '*.tmp.md')")
    a.add_argument("--no-sync", action="store_true", help="register only; the watcher syncs it")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_add)

    c = ss.add_parser("change", help="new include/exclude globs (the next sync applies them)")
    c.add_argument("id", type=int)
    c.add_argument("--include", action="append", metavar="GLOB")
    c.add_argument("--exclude", action="append", metavar="GLOB")
    c.add_argument("--clear", action="store_true", help="drop all globs first")
    c.set_defaults(func=cmd_change)

    ls = ss.add_parser("list", help="sources with their last sync, pending changes and errors")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    s = ss.add_parser("sync", help="sync now (default: every source)")
    s.add_argument("ids", nargs="*", type=int, metavar="ID")
    s.add_argument("--dry-run", action="store_true", help="show what would change")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sync)

    r = ss.add_parser("remove", help="stop watching a folder; its documents go too")
    r.add_argument("id", type=int)
    r.add_argument("--keep-documents", action="store_true",
                   help="keep the documents (they stay as if uploaded)")
    r.set_defaults(func=cmd_remove)

    w = ss.add_parser("watch", help="keep every source in sync until stopped (a service)")
    w.set_defaults(func=cmd_watch)


def cmd_add(args) -> int:
    app = services_from(args)
    info = app.sources.add(args.path, args.collection, args.include, args.exclude)
    print(f"source {info.id}: {info.path} -> collection {info.collection}")
    if args.no_sync:
        return 0
    return _print_reports(app.sources.sync([info.id], progress=show_progress(args)), args)


def cmd_change(args) -> int:
    app = services_from(args)
    include = [] if args.clear and args.include is None else args.include
    exclude = [] if args.clear and args.exclude is None else args.exclude
    info = app.sources.change(args.id, include, exclude)
    print(f"source {info.id}: include {info.include or ['(all supported files)']}, "
          f"exclude {info.exclude or ['(nothing)']}; `appliance sources sync {info.id}` "
          "applies it now")
    return 0


def cmd_list(args) -> int:
    app = services_from(args)
    infos = app.sources.list()
    if args.json:
        print_json({"sources": [i.to_json() for i in infos]})
        return 0
    if not infos:
        print("no sources: `appliance sources add PATH --collection C` watches a folder")
        return 0
    for i in infos:
        stale = i.staleness()
        synced = "never synced" if stale is None else f"synced {ago(stale)} ago"
        print(f"{i.id}. {i.path} -> {i.collection}: {i.indexed}/{i.files} files indexed, "
              f"{synced}, {i.pending} pending")
        if i.include or i.exclude:
            print(f"   include {i.include or ['*']} exclude {i.exclude or []}")
        if i.last_error:
            print(f"   error: {i.last_error}")
        for file, reason in i.errors[:20]:
            print(f"   {file}: {reason}")
        if len(i.errors) > 20:
            print(f"   … {len(i.errors) - 20} more (--json lists them)")
    return 0


def cmd_sync(args) -> int:
    app = services_from(args)
    reports = app.sources.sync(args.ids or None, progress=show_progress(args),
                               dry_run=args.dry_run)
    return _print_reports(reports, args, args.dry_run)


def cmd_remove(args) -> int:
    app = services_from(args)
    removed = app.sources.remove(args.id, keep_documents=args.keep_documents)
    print(f"source {args.id} removed" + ("; its documents kept" if args.keep_documents
                                         else f" with {removed} document(s)"))
    return 0


def cmd_watch(args) -> int:
    app = services_from(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def report(reports) -> None:
        for r in reports:
            if r.changes or r.failed or r.error:
                print(f"{time.strftime('%H:%M:%S')} source {r.source_id}: {_counts(r)}",
                      flush=True)

    watcher = app.source_watcher(on_sync=report)
    print(f"watching {len(app.sources.list())} source(s); rescans every "
          f"{app.settings.source_rescan_seconds:g} s (Ctrl-C stops)", flush=True)
    try:
        watcher.run(stop)
    except KeyboardInterrupt:
        pass
    return 0


def _print_reports(reports, args, dry_run: bool = False) -> int:
    if getattr(args, "json", False):
        print_json({"dry_run": dry_run, "sources": [
            {**r.__dict__, "errors": [{"file": f, "reason": e} for f, e in r.errors]}
            for r in reports]})
    else:
        for r in reports:
            head = "would change" if dry_run else "synced"
            print(f"source {r.source_id} {head}: {_counts(r)}"
                  + (f" ({r.seconds:.1f} s)" if not dry_run else ""))
            if r.error:
                print(f"   error: {r.error}")
            for file, reason in r.errors:
                print(f"   {file}: {reason}")
    return 1 if any(r.error or r.errors for r in reports) else 0


def _counts(r) -> str:
    return (f"{r.added} added, {r.updated} changed, {r.removed} removed, {r.renamed} renamed, "
            f"{r.moved} moved, {r.failed} failed, {r.unchanged} unchanged")
