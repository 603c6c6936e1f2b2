"""Draw docs/tuning.png from the comparison JSON of benchmarks/tuning.py (needs matplotlib)."""
from __future__ import annotations

from pathlib import Path

METRICS = (("answer_f1", "answer token F1"), ("citation_rate", "citation rate"),
           ("refusal_accuracy", "refusal accuracy (unanswerable)"),
           ("false_refusal_rate", "false refusals (answerable)"))


def plot(result: dict, out: Path, losses: list[float] | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conditions = list(result["conditions"])
    panels = 2 if losses else 1
    fig, axes = plt.subplots(1, panels, figsize=(11 if losses else 8, 4.2),
                             gridspec_kw={"width_ratios": [3, 1.3] if losses else [1]})
    ax = axes[0] if losses else axes
    width = 0.8 / len(METRICS)
    for j, (key, label) in enumerate(METRICS):
        raw = [result["conditions"][c].get(key) for c in conditions]  # None: not applicable
        values = [v or 0.0 for v in raw]
        xs = [i + (j - (len(METRICS) - 1) / 2) * width for i in range(len(conditions))]
        bars = ax.bar(xs, values, width, label=label)
        ax.bar_label(bars, labels=["n/a" if v is None else f"{v:.2f}" for v in raw], fontsize=7,
                     padding=1)
    ax.set_xticks(range(len(conditions)), [c.replace(" uncal", "\nuncal") for c in conditions])
    ax.set_ylim(0, 1.08)
    ax.set_title(f"Held-out CLAPnq, {result['questions']} questions "
                 f"({result['answerable']} answerable)", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=4)
    if losses:
        axes[1].plot(range(1, len(losses) + 1), losses, color="tab:gray")
        axes[1].set_title("training loss (completion tokens)", fontsize=10)
        axes[1].set_xlabel("optimizer step")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
