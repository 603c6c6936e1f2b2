"""The failure mix over time as a self-contained SVG (no scripts, no external assets): one
stacked bar per week of labelled failures by category, the correct answers as a line of text."""
from __future__ import annotations

import time
from html import escape
from typing import Sequence

from ..answering import LoggedAnswer
from .advisor import label_of

WEEK = 7 * 86400
COLOURS = {"wrong_fact": "#c0392b", "retrieval_miss": "#e67e22", "wrong_reasoning": "#8e44ad",
           "wrong_format": "#2980b9", "wrong_tone": "#16a085", "other": "#7f8c8d"}


def weekly_mix(entries: Sequence[LoggedAnswer], weeks: int = 12, now: float | None = None,
               include_suggestions: bool = False) -> list[dict]:
    """[{"start": epoch, "counts": {label: n}}] for the last `weeks` weeks, oldest first."""
    now = now or time.time()
    start = now - weeks * WEEK
    buckets = [{"start": start + i * WEEK, "counts": {}} for i in range(weeks)]
    for e in entries:
        if e.created_at < start:
            continue
        label, _ = label_of(e, include_suggestions)
        if label is None:
            continue
        index = min(weeks - 1, int((e.created_at - start) // WEEK))
        counts = buckets[index]["counts"]
        counts[label] = counts.get(label, 0) + 1
    return buckets


def mix_svg(buckets: list[dict], width: int = 720, height: int = 260) -> str:
    left, right, top, bottom = 40, 150, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    failures = [sum(n for k, n in b["counts"].items() if k != "correct") for b in buckets]
    peak = max(failures + [1])
    bar = plot_w / max(1, len(buckets))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Failure mix by week">',
             f'<title>Labelled failures by week and kind</title>',
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
             f'stroke="#444"/>',
             f'<text x="{left - 6}" y="{top + 4}" font-size="10" text-anchor="end">{peak}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>']
    for i, b in enumerate(buckets):
        x, y = left + i * bar + 2, top + plot_h
        for label, colour in COLOURS.items():
            n = b["counts"].get(label, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(label.replace("_", " "))}: {n}</title></rect>')
        day = time.strftime("%d %b", time.gmtime(b["start"]))
        parts.append(f'<text x="{x + (bar - 4) / 2:.1f}" y="{top + plot_h + 14}" font-size="9" '
                     f'text-anchor="middle">{day}</text>')
        correct = b["counts"].get("correct", 0)
        if correct:
            parts.append(f'<text x="{x + (bar - 4) / 2:.1f}" y="{top + plot_h + 28}" '
                         f'font-size="9" text-anchor="middle" fill="#27ae60">{correct} ok</text>')
    for j, (label, colour) in enumerate(COLOURS.items()):
        y = top + 14 * j
        parts.append(f'<rect x="{width - right + 12}" y="{y}" width="10" height="10" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{width - right + 28}" y="{y + 9}" font-size="11">'
                     f'{escape(label.replace("_", " "))}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
