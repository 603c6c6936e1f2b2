"""Evaluation commands: eval retrieval (BEIR format), eval answers (grounded QA)."""
from __future__ import annotations

from pathlib import Path

from .common import print_json, settings_from, show_progress


def register(sub) -> None:
    p = sub.add_parser("eval", help="measure retrieval and answer quality")
    ev = p.add_subparsers(dest="eval_command", metavar="WHAT")
    ev.required = True
    q = ev.add_parser("retrieval", help="ingest a BEIR corpus into a throwaway data dir and "
                                        "print nDCG@10, recall@10, recall@100, MRR@10")
    q.add_argument("--corpus", required=True, type=Path, help="corpus.jsonl (_id, title, text)")
    q.add_argument("--queries", required=True, type=Path, help="queries.jsonl (_id, text)")
    q.add_argument("--qrels", required=True, type=Path, help="qrels.tsv (query-id corpus-id score)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_retrieval)
    a = ev.add_parser("answers", help="ingest a corpus into a throwaway data dir, ask every "
                                      "question and print how often answers hold the gold "
                                      "answer, token F1, gold citations, the path each answer "
                                      "took, unsupported figures and refusals")
    a.add_argument("--qa", required=True, type=Path,
                   help="questions, JSONL: {question, answers, gold_passage_ids, answerable} "
                        "(the CLAPnq layout)")
    a.add_argument("--corpus", type=Path, help="corpus.jsonl (_id, title, text); default: "
                                               "corpus.jsonl beside --qa")
    a.add_argument("--limit", type=int, help="ask only the first N questions")
    a.add_argument("--per-question", action="store_true", help="list every question's answer")
    a.add_argument("--json", action="store_true",
                   help="print the summary and every question's record as JSON")
    a.set_defaults(func=cmd_answers)


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


def cmd_answers(args) -> int:
    from ..errors import InvalidRequest, NotFoundError
    from ..evaluation import evaluate_answers, format_answer_report

    corpus = args.corpus or args.qa.parent / "corpus.jsonl"
    for path in (args.qa, corpus):
        if not path.is_file():
            raise NotFoundError(f"no such file: {path}")
    if args.limit is not None and args.limit < 1:
        raise InvalidRequest("--limit must be a positive number")
    from ..services import build_services

    result = evaluate_answers(settings_from(args), args.qa, corpus, build_services,
                              progress=show_progress(args), limit=args.limit)
    if args.json:
        print_json(result)
    else:
        print(format_answer_report(result, args.per_question))
    return 0
