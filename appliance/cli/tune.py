"""Fine-tuning commands: tune prepare | train | export | eval."""
from __future__ import annotations

import getpass
from pathlib import Path

from .common import print_json, services_from, settings_from, show_progress


def register(sub) -> None:
    p = sub.add_parser("tune", help="build training sets, train, export and evaluate LoRA "
                                    "adapters on this box")
    tune = p.add_subparsers(dest="tune_command", metavar="STEP")
    tune.required = True

    q = tune.add_parser("prepare", help="validate, deduplicate, redact and split training data")
    q.add_argument("--input", action="append", default=[], type=Path, metavar="JSONL",
                   help="prompt/completion or chat-messages records (repeatable)")
    q.add_argument("--feedback", action="append", default=[], type=Path, metavar="JSONL",
                   help="reviewed feedback: {question, context?, corrected_answer} (repeatable)")
    q.add_argument("--reviewed", action="store_true",
                   help="add the synthetic pairs accepted or edited in the review queue")
    q.add_argument("--name", default="default", help="training set name (default: default)")
    q.add_argument("--eval-fraction", type=float, default=0.1)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_prepare)

    y = tune.add_parser("synthesize", help="make question/answer pairs from a collection's own "
                                           "chunks and send each to the review queue")
    y.add_argument("--collection", required=True)
    y.add_argument("--n", type=int, default=100, help="pairs to make (default 100)")
    y.add_argument("--seed", type=int, default=0)
    y.add_argument("--json", action="store_true")
    y.set_defaults(func=cmd_synthesize)

    t = tune.add_parser("train", help="train a LoRA adapter on the base model (CPU by default)")
    t.add_argument("--dataset", default="default", help="a prepared training set")
    t.add_argument("--run", default=None, help="run name (default: the dataset name)")
    t.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    t.add_argument("--rank", type=int, default=8)
    t.add_argument("--alpha", type=int, default=16)
    t.add_argument("--learning-rate", type=float, default=3e-4)
    t.add_argument("--epochs", type=float, default=1.0)
    t.add_argument("--max-steps", type=int, default=0, help="optimizer steps (0: --epochs)")
    t.add_argument("--grad-accum", type=int, default=8, help="examples per optimizer step")
    t.add_argument("--max-length", type=int, default=1024, help="longest example in tokens")
    t.add_argument("--checkpoint-every", type=int, default=10, help="optimizer steps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    t.add_argument("--qlora", action="store_true",
                   help="QLoRA: the base model in 4 bits (bitsandbytes), on a CUDA GPU only")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_train)

    e = tune.add_parser("export", help="convert a trained run to a GGUF adapter and register it")
    e.add_argument("--run", required=True)
    e.add_argument("--name", default=None, help="adapter name (default: the run name)")
    e.add_argument("--actor", default=None, help="who registers it (default: the OS user)")
    e.add_argument("--scale", type=float, default=1.0, help="multiply the adapter's effect "
                   "(below 1: less drift from the base model; default 1)")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_export)

    v = tune.add_parser("eval", help="compare base and base+adapter: task metrics, general "
                                     "benchmarks, perplexity and speed; stores the quality "
                                     "report the activation gate reads")
    v.add_argument("--adapter", required=True, help="adapter version (or 'latest')")
    v.add_argument("--dataset", default=None, help="prepared set whose eval split to use "
                                                   "(default: the one it was trained on)")
    v.add_argument("--qa", type=Path, default=None, help="retrieval task: QA JSONL with "
                   "question, answerable, answers (CLAPnq layout)")
    v.add_argument("--corpus", type=Path, default=None, help="retrieval task: corpus.jsonl")
    v.add_argument("--general-text", type=Path, default=None,
                   help="text for the perplexity regression check (default: bundled text)")
    v.add_argument("--limit", type=int, default=100, help="questions per task (default 100)")
    v.add_argument("--general-data", type=Path, default=None,
                   help="folder of general benchmarks (hellaswag_val.jsonl, mmlu_redux.jsonl) "
                        "scored for base and adapter (default: the general_eval_data setting)")
    v.add_argument("--general-limit", type=int, default=None,
                   help="items per general benchmark (default: general_eval_limit, 300)")
    v.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_eval)


def actor_name(args) -> str:
    return getattr(args, "actor", None) or f"cli:{getpass.getuser()}"


def cmd_prepare(args) -> int:
    from ..engines import assemble_generator
    from ..errors import ApplianceError
    from ..evaluation import feedback_formatter
    from ..tuning import dataset_dir, prepare, tokenizer_for

    if not args.input and not args.feedback and not args.reviewed:
        raise ApplianceError("give at least one --input or --feedback file, or --reviewed")
    app = services_from(args)
    if args.reviewed:
        args.feedback = [*args.feedback, _reviewed_file(app, args.name)]
    fmt = None
    if args.feedback:
        tok = tokenizer_for(str(assemble_generator(app.settings)))
        fmt = feedback_formatter(tok.count, app.settings.context_size,
                                 app.settings.max_answer_tokens)
    result = prepare(dataset_dir(app.settings, args.name), args.input, args.feedback,
                     lambda text: app.redactor.redact(text, "ingest").text, fmt,
                     args.eval_fraction, args.seed)
    if args.json:
        print_json(vars(result))
        return 0
    print(f"training set {result.name}: {result.train} train, {result.eval} eval "
          f"(data sha256 {result.data_sha256[:16]}…) in {result.path}")
    for key, n in sorted(result.rejected.items()):
        print(f"rejected  {n} {key}")
    for err in result.errors[:10]:
        print(f"  {err}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0


def _reviewed_file(app, name: str) -> Path:
    """The accepted and edited synthetic pairs as a --feedback file beside the data sets."""
    import json

    from ..errors import ApplianceError
    from ..evaluation import QualityService
    from ..tuning import dataset_dir

    pairs = QualityService(app).reviewed_pairs()
    if not pairs:
        raise ApplianceError("no reviewed synthetic pairs yet (appliance tune synthesize, then "
                             "accept or edit them in the review queue)")
    path = dataset_dir(app.settings, name).parent / f"{name}-reviewed-pairs.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs),
                    encoding="utf-8")
    return path


def cmd_synthesize(args) -> int:
    from ..evaluation import synthesize

    app = services_from(args)
    report = synthesize(app, args.collection, args.n, args.seed, show_progress(args))
    if args.json:
        print_json(vars(report))
        return 0
    print(f"{report.made} pairs from collection {report.collection} ({report.answerable} "
          f"answerable, {report.unanswerable} unanswerable) are waiting in the review queue "
          f"(appliance review next, or the web's Quality > Review queue); then: appliance tune "
          f"prepare --reviewed --name NAME")
    if report.made < report.requested:
        print(f"warning: only {report.made} of {report.requested}: the collection's "
              f"{report.chunks_read} chunks gave no more templated questions")
    return 0


def serving_base(app) -> tuple[Path, str]:
    """The model adapters are trained on and load on: the registry's active model, else the
    bundled one (its path and sha256)."""
    from ..engines import assemble_generator, sha256_file

    active = app.models.active()
    if active is not None:
        return Path(active.path), active.sha256
    base = assemble_generator(app.settings)
    return base, sha256_file(base)


def cmd_train(args) -> int:
    from ..tuning import TrainConfig, dataset_dir, load_manifest, read_examples, run_dir, train

    settings = settings_from(args)
    data = dataset_dir(settings, args.dataset)
    manifest = load_manifest(data)
    base, base_sha = serving_base(services_from(args))
    config = TrainConfig(rank=args.rank, alpha=args.alpha, learning_rate=args.learning_rate,
                         epochs=args.epochs, max_steps=args.max_steps, grad_accum=args.grad_accum,
                         max_length=args.max_length, checkpoint_every=args.checkpoint_every,
                         seed=args.seed, threads=settings.threads, device=args.device,
                         qlora=args.qlora)
    meta = {"dataset": args.dataset, "data_sha256": manifest["data_sha256"],
            "base_sha256": base_sha, "base_model": base.name}
    report = train(run_dir(settings, args.run or args.dataset),
                   read_examples(data / "train.jsonl"), base, config, resume=args.resume,
                   progress=show_progress(args) or not args.json, meta=meta)
    if args.json:
        print_json(vars(report) | {"losses": report.losses[-20:]})
        return 0
    print(f"trained {report.steps} steps on {report.examples_seen} examples in "
          f"{report.seconds:.0f} s on {report.device} "
          f"({report.seconds_per_1000_examples:.0f} s per 1,000 examples); "
          f"final loss {report.final_loss:.3f}")
    if report.dropped_too_long:
        print(f"warning: {report.dropped_too_long} examples longer than --max-length skipped")
    print(f"adapter   {report.adapter_dir} (next: appliance tune export --run "
          f"{Path(report.run_dir).name})")
    return 0


def cmd_export(args) -> int:
    from ..tuning import export_and_register

    app = services_from(args)
    base, base_sha = serving_base(app)
    info = export_and_register(app.adapters, app.settings, args.run, args.name,
                               actor_name(args), base, base_sha, args.scale)
    if args.json:
        print_json(info.to_json())
    else:
        print(f"registered adapter v{info.version} {info.name} sha256 {info.sha256[:16]}… "
              f"({info.path}); next: appliance tune eval --adapter {info.version}")
    return 0


def cmd_eval(args) -> int:
    from ..evaluation import evaluate_adapter, format_report
    from ..services import build_services

    app = services_from(args)
    report = evaluate_adapter(app, build_services, args.adapter, dataset=args.dataset, qa=args.qa,
                              corpus=args.corpus, general_text=args.general_text,
                              limit=args.limit, progress=show_progress(args),
                              general_data=args.general_data, general_limit=args.general_limit,
                              measure_speed=not args.no_speed)
    if args.json:
        print_json(report)
    else:
        print(format_report(report))
    return 0 if not report["regressions"] else 1
