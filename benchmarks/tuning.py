"""Reproduce the "grounded answers" adapter and the four-way comparison of docs/tuning.md.

    D=data/tuning-bench
    python benchmarks/tuning.py --data-dir $D data prepare train   # 1.5-2.5 h on 2 cores
    python benchmarks/tuning.py --data-dir $D export eval compare plot

Stages (each reuses what the previous ones left in the data dir): `data` builds the training
JSONL from ../shared/data (CLAPnq + templated short factual questions over CLAPnq and SciFact
passages; 60 + 60 CLAPnq questions held out for the comparison, 40 + 100 for calibration),
`prepare`, `train`, `export` and `eval` run
`appliance tune ...`, `compare` answers held-out CLAPnq questions four ways (base, RAG, LoRA,
RAG + LoRA) through the real ask flow and `plot` draws docs/tuning.png (needs the `bench`
extra: pip install -e '.[bench]'). Results go to
<data-dir>/tuning/bench/. `--scale` exports the adapter scaled (llama.cpp's --lora-scaled)
when a full-strength one fails the perplexity gate. On a box shared with other jobs, llama.cpp
answers faster with `threads = 1` in $D/appliance.toml.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
SHARED = ROOT.parent / "shared" / "data"
STAGES = ("data", "prepare", "train", "export", "eval", "compare", "plot")
HELD_OUT_PER_CLASS = 60
# a second hold-out that `eval` calibrates the answer behaviour on: refusal accuracy is the
# share of a few dozen unanswerable questions, so it gets more of them (run D had 30 + 30)
DEV_ANSWERABLE, DEV_UNANSWERABLE = 40, 100
TRAIN_CTX = 768  # training prompts are built to this budget (serving uses context_size)


def appliance(args, *cmd: str) -> None:
    full = [sys.executable, "-m", "appliance", "--data-dir", str(args.data_dir), *cmd]
    print("$", " ".join(full[2:]), flush=True)
    subprocess.run(full, check=True)


def bench_dir(args) -> Path:
    path = Path(args.data_dir) / "tuning" / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_data(args) -> None:
    from appliance.evaluation.grounded_data import load_clapnq, split_heldout

    qa, corpus = load_clapnq(args.clapnq)
    train_q, held = split_heldout(qa, HELD_OUT_PER_CLASS, seed=0)
    train_q, dev = split_heldout(train_q, DEV_ANSWERABLE, seed=1,
                                unanswerable=DEV_UNANSWERABLE)
    held_passages = {p for q in held + dev for p in q.passage_ids}
    build = stage_data_retrieved if args.contexts == "retrieved" else stage_data_passages
    examples = build(args, train_q, corpus, held_passages)
    out = bench_dir(args)
    with open(out / "grounded.jsonl", "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex, ensure_ascii=False) + "\n")
    (out / "heldout.json").write_text(json.dumps([q.id for q in held]))
    dev_ids = {q.id for q in dev}
    (out / "dev").mkdir(exist_ok=True)  # CLAPnq layout, for `tune eval --qa --corpus`
    with open(args.clapnq / "qa.jsonl", encoding="utf-8") as src, \
            open(out / "dev" / "qa.jsonl", "w", encoding="utf-8") as dst:
        dst.writelines(line for line in src if json.loads(line)["id"] in dev_ids)
    shutil.copyfile(args.clapnq / "corpus.jsonl", out / "dev" / "corpus.jsonl")
    kinds: dict[str, int] = {}
    for ex in examples:
        kinds[ex["source"]] = kinds.get(ex["source"], 0) + 1
    print(f"{len(examples)} examples {kinds}; {len(held)} CLAPnq questions held out for the "
          f"comparison, {len(dev)} for calibration")


def stage_data_retrieved(args, train_q, corpus, held_passages) -> list[dict]:
    """Contexts as serving shows them: the appliance's retriever over the CLAPnq passages that
    no held-out question uses, at the serving context size (see retrieved_data.py)."""
    from appliance.engines.model_files import assemble_generator
    from appliance.evaluation.comparison import corpus_app
    from appliance.evaluation.retrieved_data import (
        ServingPrompts,
        balance_refusals,
        clapnq_retrieved,
        factual_retrieved,
    )
    from appliance.services import build_services
    from appliance.settings import load_settings
    from appliance.tuning.tokens import tokenizer_for

    settings = load_settings({"data_dir": str(args.data_dir)})
    tok = tokenizer_for(str(assemble_generator(settings)))
    train_corpus = bench_dir(args) / "train-corpus.jsonl"
    with open(args.clapnq / "corpus.jsonl", encoding="utf-8") as src, \
            open(train_corpus, "w", encoding="utf-8") as dst:
        for line in src:
            if json.loads(line)["_id"] not in held_passages:
                dst.write(line)
    docs = [d for d in corpus.values() if d.id not in held_passages]
    with corpus_app(settings, build_services, train_corpus, progress=True) as app:
        prompts = ServingPrompts(app, tok.count, settings.context_size,
                                 settings.max_answer_tokens)
        grounded = clapnq_retrieved(prompts, train_q, progress=True)
        factual = factual_retrieved(prompts, docs, args.factual, args.factual_refusals, seed=0,
                                    progress=True)
    examples = balance_refusals(grounded + factual, args.refusal_share, seed=0)
    if args.plain_text:
        from appliance.evaluation.grounded_data import load_corpus, plain_text_examples

        scifact = load_corpus(args.scifact / "corpus.jsonl", prefix="sf")
        examples += plain_text_examples(list(scifact.values()), args.plain_text, seed=0)
    return examples


def stage_data_passages(args, train_q, corpus, held_passages) -> list[dict]:
    """The first run's data: whole gold passages among 0-2 lexical distractors."""
    from appliance.engines.model_files import assemble_generator
    from appliance.evaluation.grounded_data import (
        Distractors,
        clapnq_examples,
        factual_examples,
        load_corpus,
    )
    from appliance.settings import load_settings
    from appliance.tuning.tokens import tokenizer_for

    settings = load_settings({"data_dir": str(args.data_dir)})
    tok = tokenizer_for(str(assemble_generator(settings)))
    scifact = load_corpus(args.scifact / "corpus.jsonl", prefix="sf")
    pool = [d for d in corpus.values() if d.id not in held_passages] + list(scifact.values())
    distractors = Distractors(pool)
    grounded = clapnq_examples(train_q, corpus, distractors, tok.count, TRAIN_CTX, seed=0)
    factual = factual_examples(pool, distractors, tok.count, TRAIN_CTX, args.factual,
                               args.factual_refusals, seed=0)
    return grounded + factual


def stage_prepare(args) -> None:
    appliance(args, "tune", "prepare", "--input", str(bench_dir(args) / "grounded.jsonl"),
              "--name", "grounded", "--eval-fraction", "0.05")


def stage_train(args) -> None:
    cmd = ["tune", "train", "--dataset", "grounded", "--run", "grounded",
           "--learning-rate", str(args.learning_rate), "--max-length", str(args.max_length)]
    if args.resume:
        cmd.append("--resume")
    appliance(args, *cmd)


def stage_export(args) -> None:
    appliance(args, "tune", "export", "--run", "grounded", "--name", "grounded-answers",
              "--scale", str(args.scale))


def stage_eval(args) -> None:
    dev = bench_dir(args) / "dev"
    try:
        appliance(args, "tune", "eval", "--adapter", "latest", "--dataset", "grounded",
                  "--qa", str(dev / "qa.jsonl"), "--corpus", str(dev / "corpus.jsonl"),
                  "--limit", str(args.eval_limit))
    except subprocess.CalledProcessError:
        print("the adapter regresses (see above); continuing the benchmark")


def stage_compare(args) -> None:
    from appliance.engines.model_files import generator_path
    from appliance.evaluation.comparison import (
        CONDITIONS,
        UNCALIBRATED,
        balanced,
        compare_four_ways,
    )
    from appliance.evaluation.grounded_data import load_clapnq
    from appliance.services import build_services
    from appliance.settings import load_settings

    settings = load_settings({"data_dir": str(args.data_dir)})
    only = [c for c in args.conditions.split(",") if c] or \
        [c[0] for c in CONDITIONS + (UNCALIBRATED,)]
    adapter = None
    if any("LoRA" in c for c in only):
        app = build_services(settings)
        adapter = app.adapters.get("latest")
        app.close()
    held = set(json.loads((bench_dir(args) / "heldout.json").read_text()))
    qa, _ = load_clapnq(args.clapnq)
    ids = [q.id for q in balanced([q for q in qa if q.id in held], args.compare_limit)]
    result = compare_four_ways(settings, build_services, args.clapnq, ids,
                               str(generator_path(settings)), adapter.path if adapter else "",
                               progress=True, only=only,
                               calibration=(adapter.refusal_bias, adapter.min_relevance)
                               if adapter else (0.0, None))
    path = bench_dir(args) / "comparison.json"
    merged = json.loads(path.read_text()) if path.is_file() else {"conditions": {}}
    if merged.get("question_ids") not in (None, ids):
        merged = {"conditions": {}}  # another question set: start over
    merged["conditions"].update(result["conditions"])
    merged["conditions"] = {c[0]: merged["conditions"][c[0]] for c in CONDITIONS + (UNCALIBRATED,)
                            if c[0] in merged["conditions"]}
    merged.update(questions=result["questions"], answerable=result["answerable"],
                  question_ids=ids, threads=settings.threads)
    if adapter:
        merged["adapter"] = {"version": adapter.version, "sha256": adapter.sha256,
                             "refusal_bias": adapter.refusal_bias,
                             "min_relevance": adapter.min_relevance,
                             "training": adapter.training, "metrics": adapter.metrics}
    path.write_text(json.dumps(merged, indent=1))
    if adapter:  # keep each export scale's comparison for the plot
        (bench_dir(args) / f"comparison-scale{args.scale:g}.json").write_text(
            json.dumps(merged, indent=1))
    print_table(merged)


def print_table(result: dict) -> None:
    from _table import report

    rows = [(name, f"{m['answer_f1']:.3f}", _pct(m.get("citation_rate")),
             _pct(m["refusal_accuracy"]), _pct(m["false_refusal_rate"]),
             f"{m['seconds_per_question']:.1f}") for name, m in result["conditions"].items()]
    report("tuning", rows, ("condition", "answer F1", "citation rate", "refusal acc.",
                            "false refusals", "s/question"))


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def stage_plot(args) -> None:
    from plot_tuning import plot

    result = json.loads((bench_dir(args) / "comparison.json").read_text())
    full = bench_dir(args) / "comparison-scale1.json"  # the run exported at scale 1, if made
    if full.is_file() and args.scale != 1.0:
        extra = json.loads(full.read_text())["conditions"]
        result["conditions"] = {**{f"{k} ({args.scale:g})" if "LoRA" in k else k: v
                                   for k, v in result["conditions"].items()},
                                **{f"{k} (1.0)": v for k, v in extra.items() if "LoRA" in k}}
    report = Path(args.data_dir) / "tuning" / "runs" / "grounded" / "train_report.json"
    losses = json.loads(report.read_text())["losses"] if report.is_file() else None
    print("wrote", plot(result, ROOT / "docs" / "tuning.png", losses))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("stages", nargs="*", default=["all"], help=f"all or some of {STAGES}")
    p.add_argument("--data-dir", type=Path, default=ROOT / "data" / "tuning-bench")
    p.add_argument("--clapnq", type=Path, default=SHARED / "clapnq")
    p.add_argument("--scifact", type=Path, default=SHARED / "scifact")
    p.add_argument("--factual", type=int, default=200, help="answered factual examples")
    p.add_argument("--factual-refusals", type=int, default=60)
    p.add_argument("--contexts", choices=("retrieved", "passages"), default="retrieved",
                   help="training contexts: the appliance's retriever's top-k chunks at the "
                   "serving context size (default), or whole passages among distractors")
    p.add_argument("--plain-text", type=int, default=80,
                   help="plain language-modelling examples (SciFact abstracts) mixed in so "
                   "general-text perplexity holds")
    p.add_argument("--refusal-share", type=float, default=0.3,
                   help="share of refusals kept in the retrieved-context set")
    p.add_argument("--max-length", type=int, default=1400,
                   help="longest training example in tokens (longer ones are skipped)")
    p.add_argument("--learning-rate", type=float, default=5e-4)
    p.add_argument("--eval-limit", type=int, default=200,
                   help="eval-split examples, and calibration questions of each kind "
                   "(up to half the limit answerable, half unanswerable)")
    p.add_argument("--scale", type=float, default=1.0, help="adapter scale at export")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--conditions", default="", help="compare only these (comma-separated: "
                   "base,RAG,LoRA,RAG + LoRA,RAG + LoRA uncalibrated); results merge into "
                   "comparison.json")
    p.add_argument("--compare-limit", type=int, default=2 * HELD_OUT_PER_CLASS,
                   help="held-out questions to compare, half answerable (default: all 120)")
    args = p.parse_args()
    stages = STAGES if args.stages == ["all"] else args.stages
    for stage in stages:
        started = time.perf_counter()
        globals()[f"stage_{stage}"](args)
        print(f"[{stage}] {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
