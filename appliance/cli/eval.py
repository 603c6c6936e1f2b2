"""Evaluation commands: eval retrieval (BEIR format), eval answers (grounded QA), eval general
(HellaSwag, MMLU)."""
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
    g = ev.add_parser("general", help="general-capability benchmarks (HellaSwag, MMLU) scored by "
                                      "log-likelihood on the served model, like "
                                      "lm-evaluation-harness")
    g.add_argument("--data", required=True, type=Path,
                   help="folder with hellaswag_val.jsonl and/or mmlu_redux.jsonl (and "
                        "mmlu_dev.jsonl for MMLU exemplars); never shipped with the appliance")
    g.add_argument("--adapter", default="none", help="registered adapter version, 'latest', "
                   "'active' or 'none' (default: none, the base model)")
    g.add_argument("--tasks", default=None, help="comma-separated: hellaswag,mmlu "
                   "(default: those whose file is in --data)")
    g.add_argument("--shots", type=int, default=None,
                   help="exemplars per prompt (default: HellaSwag 10, MMLU 5)")
    g.add_argument("--limit", type=int, default=None, help="score only the first N items "
                   "of each task")
    g.add_argument("--json", action="store_true",
                   help="per task: acc, acc_norm, n and their 95%% intervals, items/s")
    g.set_defaults(func=cmd_general)


def cmd_retrieval(args) -> int:
    from ..errors import NotFoundError
    from ..evaluation import evaluate_retrieval

    for path in (args.corpus, args.queries, args.qrels):
        if not path.is_file():
            raise NotFoundError(f"no such file: {path}")
    from ..services import build_services

    from ..evaluation import retrieval_history as hist

    settings = settings_from(args)
    metrics = evaluate_retrieval(settings, args.corpus, args.queries, args.qrels,
                                 build_services, progress=show_progress(args))
    build = hist.build_of(settings, build_services(settings).embedder.model_hash)
    previous = hist.record(settings.data_dir, build, hist.data_digest(
        args.corpus, args.queries, args.qrels), metrics)
    if args.json:
        print_json({**metrics, "build": build, "previous": previous})
    else:
        for key, value in metrics.items():
            print(f"{key:>11}  {value}")
        print(f"index build {build['id']} (kept in {settings.data_dir / hist.FILE})")
        if previous:
            print("\n".join(hist.format_comparison(previous, build, metrics)))
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


def cmd_general(args) -> int:
    from ..engines import ready_generator
    from ..errors import NotFoundError
    from ..evaluation import evaluate_general, format_general

    if not args.data.is_dir():
        raise NotFoundError(f"no such folder: {args.data}")
    settings = settings_from(args)
    lora = ""
    if args.adapter not in ("none", ""):
        from .common import services_from

        adapters = services_from(args).adapters
        info = adapters.active() if args.adapter == "active" else adapters.get(args.adapter)
        if info is None:
            raise NotFoundError("no adapter is active")
        lora = info.path
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    results = evaluate_general(ready_generator(settings), args.data, lora, tasks, args.shots,
                               args.limit, settings.threads, progress=show_progress(args))
    summary = {task: result.summary() for task, result in results.items()}
    if args.json:
        print_json({"adapter": args.adapter, "tasks": summary})
    else:
        print(format_general(summary))
    return 0
