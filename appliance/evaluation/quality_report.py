"""One quality report for a model state (the base model, and base + adapter side by side):
general capability (HellaSwag, MMLU), answer quality, perplexity and speed. `tune eval` stores
it with the adapter; `adapters report` prints, exports or plots it; the admin page shows it.
The JSON schema (REPORT_VERSION) is documented in docs/evaluation.md."""
from __future__ import annotations

import time
from pathlib import Path

from .general import evaluate_general, paired_difference

REPORT_VERSION = 1
SPEED_PROMPT_WORDS = 220
SPEED_TOKENS = 48


def general_section(model: str, lora: str, data: Path, limit: int | None, threads: int,
                    tasks=None, shots: int | None = None, progress: bool = False) -> dict:
    """Both sides on the same items; the change is judged on acc_norm where the task has it
    (HellaSwag), acc otherwise, with a paired-bootstrap 95% interval."""
    base = evaluate_general(model, data, "", tasks, shots, limit, threads, progress)
    adapted = evaluate_general(model, data, lora, tasks, shots, limit, threads, progress)
    out = {}
    for task, result in base.items():
        other = adapted[task]
        metric = "acc_norm" if result.correct_norm else "acc"
        change = paired_difference(result.primary(), other.primary())
        out[task] = {"base": result.summary(), "adapter": other.summary(),
                     "change": {"metric": metric, **change}}
    return out


def speed(settings, model: str, lora: str = "", prompt: str | None = None) -> dict:
    """Time to first token and decode tokens/s on a fixed prompt (the second of two runs)."""
    from ..engines import LlamaGenerator
    from ..tuning import GENERAL_TEXT

    text = prompt or " ".join(GENERAL_TEXT.read_text(encoding="utf-8").split()[
        :SPEED_PROMPT_WORDS])
    generator = LlamaGenerator(model, n_ctx=settings.context_size, threads=settings.threads,
                               lora_path=lora)
    try:
        for _ in range(2):
            generator.llm.reset()
            started, first, pieces = time.perf_counter(), None, []
            for piece in generator.stream(text, SPEED_TOKENS, []):
                first = first or time.perf_counter()
                pieces.append(piece)
            done = time.perf_counter()
        tokens = max(1, generator.last_usage() - generator.count_tokens(text) - 1)
        ttft = (first or done) - started
        return {"ttft_s": round(ttft, 3),
                "tokens_per_s": round(tokens / max(1e-6, done - (first or started)), 1),
                "prompt_tokens": generator.count_tokens(text), "generated": tokens}
    finally:
        generator.llm.close()


def headline(metrics: dict) -> list[tuple[str, float | None, float | None]]:
    """(label, base, adapter) rows of the report's numbers, the ones the plot shows."""
    rows = []
    for task, result in (metrics.get("general") or {}).items():
        metric = result["change"]["metric"]
        rows.append((f"{task} {metric}", result["base"][metric], result["adapter"][metric]))
    for task, sides in (metrics.get("tasks") or {}).items():
        for key in ("answer_f1", "citation_rate", "refusal_accuracy"):
            b, a = sides.get("base", {}).get(key), sides.get("adapter", {}).get(key)
            if b is not None or a is not None:
                rows.append((f"{task} {key.replace('_', ' ')}", b, a))
    return rows


def format_general_change(general: dict) -> list[str]:
    lines = []
    for task, result in general.items():
        change, metric = result["change"], result["change"]["metric"]
        lo, hi = change["interval"]
        lines.append(f"  {task} ({result['base']['n']} items, {result['base']['shots']}-shot) "
                     f"{metric}: base {100 * result['base'][metric]:.1f}  adapter "
                     f"{100 * result['adapter'][metric]:.1f}  change "
                     f"{100 * change['diff']:+.1f} points (95% {100 * lo:+.1f} to "
                     f"{100 * hi:+.1f})")
    return lines


def format_speed(sides: dict) -> str:
    parts = [f"{side} {v['tokens_per_s']} tokens/s, first token {v['ttft_s']:.2f} s"
             for side, v in sides.items()]
    return "  speed: " + "; ".join(parts)


def plot_report(metrics: dict, out: Path, title: str = "") -> Path:
    """Base and adapter side by side, one pair of bars per headline number (needs
    matplotlib, in the `bench` extra)."""
    try:
        import matplotlib
    except ImportError:
        from ..errors import ApplianceError

        raise ApplianceError("plotting needs matplotlib: pip install 'appliance[bench]'") \
            from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = headline(metrics)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(rows) + 2), 4.2))
    xs = range(len(rows))
    for offset, side, index in ((-0.2, "base", 1), (0.2, "adapter", 2)):
        values = [r[index] for r in rows]
        bars = ax.bar([x + offset for x in xs], [v or 0.0 for v in values], 0.4, label=side)
        ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.2f}" for v in values],
                     fontsize=7, padding=1)
    ax.set_xticks(list(xs), [r[0].replace(" ", "\n", 1) for r in rows], fontsize=8)
    ax.set_ylim(0, 1.08)
    ppl = metrics.get("perplexity") or {}
    ax.set_title((title + "  " if title else "") + (
        f"perplexity {ppl['base']:.2f} → {ppl['adapter']:.2f}" if ppl else ""), fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
