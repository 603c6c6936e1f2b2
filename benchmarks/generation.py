"""Generation through the appliance against raw llama-cpp-python on the same prompts, same run.

    python benchmarks/generation.py [--questions 8] [--max-tokens 96] [--refusal-bias B]

For each sample question the appliance answers it (retrieval, prompt, streamed generation with
output redaction); the exact prompt it built is then run through a plain llama_cpp.Llama with the
same sampling. Reported: decode tokens/s for both, prefill time (raw: call to first token) and
the appliance's time to first model token and to first visible text. Targets (issue 3):
appliance decode >= 95% of raw; first token <= raw prefill + 50 ms. `--refusal-bias` serves
with a fixed refusal bias, so the first-token logits processor a calibrated adapter uses is
in the appliance's path (its cost shows in the decode ratio).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _table import ROOT, percentile, report


class Recorder:
    """Wraps the appliance's generator to see the prompt and when tokens leave the model."""

    def __init__(self, inner):
        self.inner, self.prompt, self.stamps = inner, "", []
        self.n_ctx, self.model_sha256 = inner.n_ctx, getattr(inner, "model_sha256", None)

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def stream(self, prompt, max_tokens, stop):
        self.prompt, self.stamps = prompt, []
        for piece in self.inner.stream(prompt, max_tokens, stop):
            self.stamps.append(time.perf_counter())
            yield piece


def raw_run(llm, prompt, max_tokens, stop):
    t0 = time.perf_counter()
    first, n = None, 0
    for part in llm.create_completion(prompt, max_tokens=max_tokens, stop=stop, temperature=0.0,
                                      top_k=1, repeat_penalty=1.1, stream=True):
        if part["choices"][0]["text"]:
            n += 1
            first = first or time.perf_counter()
    end = time.perf_counter()
    if first is None:
        return end - t0, 0, 0.0
    return first - t0, n, end - first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--refusal-bias", default="auto")
    args = parser.parse_args()
    import json

    from llama_cpp import Llama

    from appliance.answering.prompts import STOP
    from appliance.engines.model_files import assemble_generator
    from appliance.services import build_services
    from appliance.settings import load_settings

    facts = json.loads((ROOT / "tests" / "data" / "sample_facts.json").read_text())
    questions = [f["question"] for f in facts][:args.questions]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"data_dir": tmp, "max_answer_tokens": args.max_tokens,
                                  "refusal_bias": args.refusal_bias})
        model = assemble_generator(settings)
        app = build_services(settings)
        app.ingest.ingest_paths([ROOT / "samples" / "handbook"], progress=False)
        rec = Recorder(app.generator)
        app.__dict__["generator"] = rec
        chat = app.chat
        raw = Llama(str(model), n_ctx=settings.context_size, n_threads=settings.threads,
                    n_threads_batch=settings.threads, n_batch=512, seed=0, verbose=False)
        chat.ask(questions[-1])
        raw_run(raw, rec.prompt, 8, STOP)
        a_tok = a_dec = r_tok = r_dec = 0.0
        firsts, visible, prefills = [], [], []
        for q in questions:
            t0 = time.perf_counter()
            first_visible = None
            for item in chat.ask_stream(q):
                if isinstance(item, str) and first_visible is None:
                    first_visible = time.perf_counter()
            prompt, stamps = rec.prompt, rec.stamps
            if len(stamps) > 1:
                a_tok += len(stamps) - 1
                a_dec += stamps[-1] - stamps[0]
            firsts.append((stamps[0] - t0) * 1000)
            visible.append(((first_visible or stamps[-1]) - t0) * 1000)
            raw.reset()  # no prefix cache advantage for the raw run
            prefill, n, decode = raw_run(raw, prompt, args.max_tokens, STOP)
            prefills.append(prefill * 1000)
            if n > 1:
                r_tok += n - 1
                r_dec += decode
        app.close()
    a_rate, r_rate = a_tok / a_dec, r_tok / r_dec
    rows = [("raw llama-cpp-python", round(r_rate, 1), round(percentile(prefills, 50)), "-",
             "-"),
            (f"appliance (refusal bias {args.refusal_bias})", round(a_rate, 1), "-",
             round(percentile(firsts, 50)), round(percentile(visible, 50)))]
    report("generation", rows, ("path", "decode_tok_s", "prefill_p50_ms",
                                "first_model_token_p50_ms", "first_visible_p50_ms"),
           {"decode_ratio": round(a_rate / r_rate, 3),
            "first_token_minus_prefill_ms": round(percentile(firsts, 50) -
                                                  percentile(prefills, 50), 1),
            "targets": {"decode_ratio": 0.95, "first_token_minus_prefill_ms": 50}})
    print(f"decode ratio {a_rate / r_rate:.3f}; first model token - raw prefill "
          f"{percentile(firsts, 50) - percentile(prefills, 50):.0f} ms (p50)")


if __name__ == "__main__":
    main()
