"""General-capability harness: accuracy of the bundled model against published figures, and
what the scoring costs against plain llama-cpp-python prefill of the same tokens.

    python benchmarks/general.py [--hellaswag 1000] [--mmlu 1000] [--data DIR]
                                 [--skip-prefill] [--adapter GGUF]

Runs HellaSwag 10-shot and 0-shot on the first N scored items of hellaswag_val.jsonl and MMLU
5-shot on N items taken round-robin over the 57 subjects (../shared/data/general by default),
then times raw prefill: for every item, the same token lists the scorer decoded (the item's
context and each choice but its last token) fed to `Llama.eval` after the same shared prefix,
with no logits but the last one. The ratio scoring / raw prefill is the issue's cost target
(≤ 1.2); `--logits-reference` also times the same prefill with every row's logits
(`logits_all`, what lm-evaluation-harness's GGUF path asks llama.cpp for). Published reference: Gemma 3 270M (pre-trained) HellaSwag 40.9, 10-shot.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from _table import ROOT, report

DATA = ROOT.parent / "shared" / "data" / "general"


def raw_prefill(model: str, data: Path, task: str, shots: int, limit: int,
                logits_all: bool = False) -> tuple[float, int]:
    """Seconds llama-cpp-python's own eval takes for the tokens the scorer decodes (with
    logits_all: every row's logits too, as lm-evaluation-harness's GGUF path needs)."""
    from llama_cpp import Llama

    from appliance.engines.loglik import LoglikScorer
    from appliance.evaluation import general as g

    helper = LoglikScorer(model, n_ctx=64)  # the tokenizer and the pair split only
    llm = Llama(model, n_ctx=4096, n_batch=512, n_threads=2, n_threads_batch=2, verbose=False,
                logits_all=logits_all)
    items = g.load_task(data, task)
    work: list[tuple[list[int], list[list[int]]]] = []
    if task == "hellaswag":
        prefix, scored = g.hellaswag_prompts(items, shots, limit)
        shared = [helper.bos()] + helper.tokenize(prefix) if prefix else [helper.bos()]
        for item in scored:
            pairs = [helper.split(item["query"], " " + e, bos=False) for e in item["endings"]]
            work.append((shared, [pairs[0][0]] + [c[:-1] for _, c in pairs]))
    else:
        dev_path = data / "mmlu_dev.jsonl"
        dev = g._read_jsonl(dev_path) if dev_path.is_file() else None
        for prefix, members in g.mmlu_prompts(items, dev, shots, limit):
            shared = [helper.bos()] + helper.tokenize(prefix)
            for item in members:
                work.append((shared, [helper.tokenize(g.mmlu_block(item, False))]))
    helper.close()
    started, tokens, current = time.perf_counter(), 0, None
    for shared, parts in work:
        if shared != current:
            llm.reset()
            llm.eval(shared)
            tokens += len(shared)
            current = shared
        llm.n_tokens = len(shared)
        flat = [t for part in parts for t in part]
        llm.eval(flat)
        tokens += len(flat)
    seconds = time.perf_counter() - started
    llm.close()
    return seconds, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--hellaswag", type=int, default=1000, help="items (0: skip)")
    parser.add_argument("--mmlu", type=int, default=1000, help="items (0: skip)")
    parser.add_argument("--adapter", default="", help="a GGUF LoRA adapter to score with")
    parser.add_argument("--skip-prefill", action="store_true")
    parser.add_argument("--logits-reference", action="store_true",
                        help="also time prefill with every row's logits (llama-cpp-python's "
                             "logits_all, the path lm-evaluation-harness's GGUF backend uses)")
    args = parser.parse_args()

    from appliance.engines.model_files import assemble_generator
    from appliance.evaluation.general import evaluate_general
    from appliance.settings import load_settings

    model = str(assemble_generator(load_settings()))
    runs = [("hellaswag", 10, args.hellaswag), ("hellaswag", 0, args.hellaswag),
            ("mmlu", 5, args.mmlu)]
    rows, results = [], {}
    for task, shots, limit in runs:
        if not limit:
            continue
        result = evaluate_general(model, args.data, args.adapter, [task], shots, limit,
                                  progress=True)[task]
        s = result.summary()
        raw = None if args.skip_prefill else raw_prefill(model, args.data, task, shots, limit)
        ratio = round(result.seconds / raw[0], 2) if raw else None
        full = raw_prefill(model, args.data, task, shots, limit, True) \
            if args.logits_reference else None
        full_ratio = round(result.seconds / full[0], 2) if full else None
        pct = lambda v: f"{100 * v:.1f}"  # noqa: E731
        norm = "" if s["acc_norm"] is None else (f"{pct(s['acc_norm'])} [{pct(s['acc_norm_interval'][0])}"
                                                  f", {pct(s['acc_norm_interval'][1])}]")
        rows.append((task, shots, s["n"], f"{pct(s['acc'])} [{pct(s['acc_interval'][0])}, "
                     f"{pct(s['acc_interval'][1])}]", norm, s.get("acc_macro", ""),
                     s["items_per_s"], s["tokens_decoded"], raw and round(raw[0], 1), ratio,
                     full_ratio))
        results[f"{task}-{shots}shot"] = {**s, "raw_prefill_s": raw and raw[0],
                                          "raw_prefill_tokens": raw and raw[1],
                                          "cost_ratio": ratio,
                                          "prefill_all_logits_s": full and full[0],
                                          "cost_ratio_all_logits": full_ratio}
    report("general", rows, ("task", "shots", "n", "acc [95%]", "acc_norm [95%]", "acc_macro",
                             "items/s", "tokens", "raw prefill s", "scoring/raw",
                             "scoring/prefill with all logits"),
           {"results": results, "published": {"hellaswag_10shot": 0.409},
            "adapter": args.adapter or None})


if __name__ == "__main__":
    main()
