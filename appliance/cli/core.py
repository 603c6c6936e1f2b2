"""Core commands: init, ingest, search, ask, chat (interactive), reindex, doctor."""
from __future__ import annotations

import sys

from ..errors import ConsistencyError, ModelError
from .common import print_json, services_from, settings_from, show_progress


def register(sub) -> None:
    p = sub.add_parser("init", help="create the data dir, assemble and check the models")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("ingest", help="add files or directories (txt, md, html, pdf, docx)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--collection", help="collection to add to (default: the default_collection "
                                        "setting)")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="hybrid search over the documents")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5, help="results to return (default 5)")
    p.add_argument("--collection", action="append", help="limit to a collection (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question from the documents, with citations")
    p.add_argument("question")
    p.add_argument("--collection", action="append", help="limit to a collection (repeatable)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (no streaming)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="interactive ask prompt in the terminal")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("reindex", help="rebuild the vector and keyword indexes from the store")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("doctor", help="check models (sha256), store and index consistency")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)


def cmd_init(args) -> int:
    from ..audit import ensure_keys
    from ..engines import assemble_generator
    from ..privacy import create_secret

    settings = settings_from(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = assemble_generator(settings)
    app = services_from(args)
    _ = app.indexes
    print(f"data dir  {settings.data_dir.resolve()}")
    print(f"model     {path} (sha256 ok)")
    query_graph = "ONNX Runtime" if app.embedder.warm_queries() else "PyTorch"
    print(f"embedder  {app.embedder.path} (queries through {query_graph})")
    print(f"store     {app.store.engine.url.render_as_string(hide_password=True)}")
    print(f"audit key {ensure_keys(settings)} (public key: `appliance audit pubkey`)")
    create_secret(settings.secrets_dir)
    print(f"policy    {app.policy.name} sha256 {app.policy.sha256[:16]}…")
    admin = app.accounts.ensure_first_admin()
    if admin is None:
        print("admin     an administrator already exists")
    elif admin[1] is None:
        print(f"admin     {admin[0]} created with the admin_password setting")
    else:
        print(f"admin     {admin[0]} created; password: {admin[1]}  (shown once: keep it, "
              "or reset it with `appliance users passwd`)")
    return 0


def cmd_ingest(args) -> int:
    app = services_from(args)
    report = app.ingest.ingest_paths(args.paths, args.collection, progress=show_progress(args))
    if args.json:
        print_json({"job_id": report.job_id, "chunks_added": report.chunks_added,
                    "files": [vars(f) for f in report.files]})
    else:
        for f in report.files:
            detail = f" ({f.error})" if f.error else ""
            version = f" v{f.version}" if f.version else ""
            print(f"{f.status:9} {f.name}{version} {f.chunks} chunks{detail}")
        print(f"{len(report.files) - len(report.failed)} files ok, {len(report.failed)} failed, "
              f"{report.chunks_added} chunks added")
    return 1 if report.failed else 0


def cmd_search(args) -> int:
    app = services_from(args)
    result = app.retriever.search(args.query, k=args.k, collections=args.collection)
    rows = [{"doc_id": h.doc_id, "doc_name": h.doc_name, "chunk_id": h.chunk_id, "page": h.page,
             "section": h.section, "score": round(h.score, 6), "text": h.text}
            for h in result.hits]
    if args.json:
        print_json({"results": rows, "timings_ms": result.timings_ms})
        return 0
    for i, r in enumerate(rows, 1):
        where = f", page {r['page']}" if r["page"] else ""
        print(f"{i}. {r['doc_name']}{where} [{r['section'] or ''}] score {r['score']:.4f}")
        print("   " + r["text"][:240].replace("\n", " "))
    print(f"({result.timings_ms['total']:.1f} ms)")
    return 0


def cmd_ask(args) -> int:
    app = services_from(args)
    if args.json:
        print_json(app.chat.ask(args.question, collections=args.collection).to_json())
        return 0
    _stream_answer(app, args.question, args.collection)
    return 0


def _stream_answer(app, question: str, collections=None, history=()):
    """Print the answer as it streams, then what the check made of it; return the Answer."""
    final, shown = None, []
    for item in app.chat.ask_stream(question, collections=collections, history=history):
        if isinstance(item, str):
            shown.append(item)
            sys.stdout.write(item)
            sys.stdout.flush()
        else:
            final = item
    print()
    if "".join(shown).strip() != final.answer:  # the check replaced what was streamed
        if final.path == "generated":  # the same words, the citation pointed at its source
            print(f"  Citation corrected: {final.answer}")
        else:
            label = "quoted from the source" if final.path == "quoted" else "refused"
            print(f"  Replaced ({label}: {final.reason}):\n{final.answer}")
    for c in final.citations:
        where = f", page {c.page}" if c.page else ""
        print(f"  [{c.n}] {c.doc_name}{where}" + (f" — {c.section}" if c.section else ""))
    print(f"  ({final.timings_ms['total'] / 1000:.1f} s, first token "
          f"{final.timings_ms['first_token']:.0f} ms)")
    return final


def cmd_chat(args) -> int:
    app = services_from(args)
    _ = app.chat  # load everything before the first prompt so the first answer is not slow
    print("Ask a question about your documents (empty line or Ctrl-D to quit). Follow-up "
          "questions are read with the previous ones.")
    from ..answering import Turn

    turns: list[Turn] = []
    while True:
        try:
            question = input("\n? ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        final = _stream_answer(app, question, history=tuple(turns[-2:]))
        turns.append(Turn(question, "" if final.refused else final.answer))


def cmd_reindex(args) -> int:
    app = services_from(args)
    with app.indexes.write_lock():
        count = app.indexes.rebuild_all()
    print(f"reindexed {count} chunks")
    return 0


def cmd_doctor(args) -> int:
    from ..engines import acceleration, check_models, sha256_file

    app = services_from(args)
    problems: list[str] = []
    accel = acceleration(app.settings.fixed_gpu_layers)
    serving = app.models.active()
    if serving is not None:
        from pathlib import Path

        path = Path(serving.path)
        if not path.is_file() or sha256_file(path) != serving.sha256:
            problems.append(f"registered model {serving.name} ({serving.path}) is missing or "
                            "changed since it was registered")
    try:
        checks = check_models(app.settings, app.embedder.path, app.embedder.model_hash)
    except ModelError as exc:
        checks, problems = [], [str(exc)]
    for c in checks:
        if not c.ok:
            problems.append(f"{c.name} {c.path}: sha256 {c.sha256} does not match the manifest")
    try:
        report = app.indexes.check()
    except ConsistencyError as exc:
        report, problems = None, problems + [str(exc)]
    if report is not None and not report.ok:
        problems.append(f"indexes disagree with the store: {vars(report)} "
                        "(run `appliance reindex`)")
    if args.json:
        print_json({"ok": not problems, "problems": problems,
                    "models": [vars(c) | {"ok": c.ok} for c in checks],
                    "serving": serving.name if serving else "bundled",
                    "acceleration": accel, "index": vars(report) if report else None})
    else:
        for c in checks:
            print(f"{'ok ' if c.ok else 'BAD'} {c.name:9} {c.path}")
        if serving is not None:
            print(f"    serving   {serving.name} ({serving.architecture}, frame {serving.frame})")
        layers = accel["gpu_layers"]
        print(f"    gpu       {accel['gpu'] or 'none'}; model layers offloaded: "
              f"{'all' if layers == -1 else layers}"
              f"{'' if accel['llama_gpu_offload'] else ' (a CPU build of llama-cpp-python)'}; "
              f"embedder on {accel['embedder_device']}")
        if report is not None:
            print(f"{'ok ' if report.ok else 'BAD'} store {report.store_chunks} chunks, vectors "
                  f"{report.vector_ids}, keywords {report.keyword_ids}")
        for p in problems:
            print(f"problem: {p}")
    return 1 if problems else 0
