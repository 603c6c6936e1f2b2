"""`appliance nodes`: the nodes sharing this store and how far each has applied the change
sequence; `appliance nodes prune` drops the changes every node has applied
(docs/operations.md, "Several nodes")."""
from __future__ import annotations

from .common import ago, print_json, services_from


def register(sub) -> None:
    p = sub.add_parser("nodes", help="the nodes sharing this store: how far each index got")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    ns = p.add_subparsers(dest="nodes_command", metavar="ACTION")
    pr = ns.add_parser("prune", help="drop the change rows every node has applied (older "
                                     "than --keep-days: a node silent longer rebuilds)")
    pr.add_argument("--keep-days", type=float,
                    help="default: the index_changes_keep_days setting (7)")
    pr.set_defaults(func=cmd_prune)


def cmd_list(args) -> int:
    from ..store import sequence_state

    state = sequence_state(services_from(args).store)
    if args.json:
        print_json(state)
        return 0
    print(f"change sequence: head {state['head']}, {state['change_rows']} rows kept, "
          f"pruned through {state['pruned_through']}")
    if not state["nodes"]:
        print("no node has reported yet (a node reports when it searches or ingests)")
    for node in state["nodes"]:
        print(f"  {node['name']:<40} applied {node['applied_seq']:>10}  behind "
              f"{node['behind']:>6}  seen {ago(node['seen_seconds_ago'])} ago")
    return 0


def cmd_prune(args) -> int:
    from ..store import prune_changes

    app = services_from(args)
    days = args.keep_days if args.keep_days is not None else app.settings.index_changes_keep_days
    deleted, through = prune_changes(app.store, days * 86400)
    print(f"pruned {deleted} change rows (through sequence {through})")
    return 0
