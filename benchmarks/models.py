"""Bring your own model (issue 23): switching the serving model without a restart, and speed
per registered model, on the real GGUF files.

    python benchmarks/models.py [--rounds 3]

Registers the bundled model and a copy of it carrying a chat template (written with the
`gguf` package, as an operator's instruction-tuned GGUF would carry one), then for each:
the time from `models activate` to the end of the next answer's model load (target <= 10 s
for the bundled model on 2 cores), time to first token and decode tokens/s of a plain
completion (the same prompt, 64 tokens, greedy), and raw llama-cpp-python on the same file in
the same run as the reference.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _table import ROOT, percentile, report

TEMPLATE = ROOT / "tests" / "data" / "templates" / "gemma-like.jinja"
PROMPT = ("Question: Summarise the rules for booking business travel in three sentences.\n"
          "Answer:")


def speed(generate) -> tuple[float, float]:
    """(seconds to the first token, decode tokens/s after it) for one 64-token completion."""
    start = time.perf_counter()
    first, n = None, 0
    for _ in generate():
        n += 1
        if first is None:
            first = time.perf_counter()
    end = time.perf_counter()
    return first - start, (n - 1) / (end - first) if n > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from llama_cpp import Llama

    from appliance.engines import assemble_generator
    from appliance.services import build_services
    from appliance.settings import load_settings

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"data_dir": str(Path(tmp) / "data")}, environ={})
        bundled = assemble_generator(settings)
        chat = Path(tmp) / "gemma-chat.gguf"
        subprocess.run([sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(bundled),
                        str(chat), "--chat-template-file", str(TEMPLATE)], check=True,
                       capture_output=True)
        app = build_services(settings)
        app.models.add(bundled, "gemma-base", "bench")
        app.models.add(chat, "gemma-chat", "bench")
        app.generator  # noqa: B018 - a serving process: the bundled model loaded
        for name in ("gemma-base", "gemma-chat", "bundled"):
            switches = []
            for _ in range(args.rounds):
                app.models.activate("bundled" if name != "bundled" else "gemma-base", "bench")
                app.generator.sync()
                t = time.perf_counter()
                app.models.activate(name, "bench")
                app.generator.sync()  # what the next answer does first
                switches.append(time.perf_counter() - t)
            gen = app.generator.current
            ttft, tps = zip(*[speed(lambda: gen.stream(PROMPT, 64, [])) for _ in range(3)])
            path = bundled if name != "gemma-chat" else chat
            raw = Llama(str(path), n_ctx=2048, n_threads=settings.threads, verbose=False)
            raw_ttft, raw_tps = zip(*[speed(lambda: (
                p for p in raw.create_completion(PROMPT, max_tokens=64, temperature=0.0,
                                                 top_k=1, repeat_penalty=1.1,
                                                 stream=True))) for _ in range(3)])
            # the first run's first token: the prompt evaluated from scratch (later runs reuse
            # llama.cpp's cached prefix)
            rows.append((name, f"{percentile(switches, 50):.2f}", f"{ttft[0]:.3f}",
                         f"{max(tps):.1f}", f"{max(raw_tps):.1f}",
                         f"{max(tps) / max(raw_tps):.2f}"))
        app.close()
    report("models", rows, ("model", "switch s (p50)", "first token s (cold)", "decode tok/s",
                            "raw llama-cpp tok/s", "ratio"))


if __name__ == "__main__":
    main()
