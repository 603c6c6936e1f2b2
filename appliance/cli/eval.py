"""Evaluation commands: eval retrieval (BEIR format)."""
from __future__ import annotations

from pathlib import Path

from .common import print_json, settings_from, show_progress


def register(sub) -> None:
    p = sub.add_parser("eval", help="measure retrieval quality")
    ev = p.add_subparsers(dest="eval_command", metavar="WHAT")
    ev.required = True
    q = ev.add_parser("retrieval", help="ingest a BEIR corpus into a throwaway data dir and "
                                        "print nDCG@10, recall@10, recall@100, MRR@10")
    q.add_argument("--corpus", required=True, type=Path, help="corpus.jsonl (_id, title, text)")
    q.add_argument("--queries", required=True, type=Path, help="queries.jsonl (_id, text)")
    q.add_argument("--qrels", required=True, type=Path, help="qrels.tsv (query-id corpus-id score)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_retrieval)


def cmd_retrieval(args) -> int:
    from ..errors import NotFoundError
    from ..evaluation import evaluate_retrieval

    for path in (args.corpus, args.queries, args.qrels):
        if not path.is_file():
            raise NotFoundError(f"no such file: {path}")
    from ..services import build_services

    metrics = evaluate_retrieval(settings_from(args), args.corpus, args.queries, args.qrels,
                                 build_services, progress=show_progress(args))
    if args.json:
        print_json(metrics)
    else:
        for key, value in metrics.items():
            print(f"{key:>11}  {value}")
    return 0
