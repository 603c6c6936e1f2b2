"""The failure audit and the RAG-or-fine-tune advice.

Count the labelled failures of the logged answers by kind; if at least 70% are factual (wrong
fact, retrieval miss) invest in RAG (documents, retrieval); if at least 70% are behavioural
(wrong format, tone, reasoning) fine-tune (LoRA); otherwise both. Labels are people's: a
reviewer's, else the asking user's vote (an up-vote is "correct", a down-vote its category);
automatic pre-labels count only when asked for (`include_suggestions`). Below
`advisor_min_failures` labelled failures the advice is "not enough labels" with how many more.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..answering import LABELS, LoggedAnswer, content_words
from .general import wilson
from .prelabels import model_failure

FACTUAL = ("wrong_fact", "retrieval_miss")
BEHAVIOURAL = ("wrong_format", "wrong_tone", "wrong_reasoning")
SHARE = 0.7
TRAINING_STEPS = (500, 1000)
RECOMMENDATIONS = {"rag": "invest in RAG: documents and retrieval",
                   "fine_tune": "fine-tune: a LoRA adapter on reviewed answers",
                   "both": "both: the failures are split between knowledge and behaviour",
                   "not_enough_labels": "not enough labelled answers yet"}


@dataclass
class Advice:
    answers: int
    labelled: int
    failures: int
    mix: dict[str, dict]
    factual: dict
    behavioural: dict
    recommendation: str
    why: str
    needed: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    actions: list[dict] = field(default_factory=list)
    decision_table: list[dict] = field(default_factory=list)
    caught: dict[str, int] = field(default_factory=dict)  # model failures the check replaced

    def to_json(self) -> dict:
        return dict(self.__dict__)


def label_of(entry: LoggedAnswer, include_suggestions: bool) -> tuple[str | None, str | None]:
    """(label, where it came from): reviewer, user, suggestion; (None, None) when unlabelled."""
    if entry.label:
        return entry.label, "reviewer"
    if entry.feedback:
        return entry.feedback.get("category") or "other", "user"
    if include_suggestions and entry.suggestion:
        return entry.suggestion, "suggestion"
    return None, None


def _share(count: int, total: int) -> dict:
    return {"count": count, "share": round(count / total, 4) if total else 0.0,
            "interval": wilson(count, total)}


def failure_mix(entries: Sequence[LoggedAnswer], include_suggestions: bool = False,
                min_failures: int = 30) -> Advice:
    labels, sources = [], Counter()
    for entry in entries:
        label, source = label_of(entry, include_suggestions)
        if label is not None:
            labels.append(label)
            sources[source] += 1
    counts = Counter(labels)
    failures = sum(n for label, n in counts.items() if label != "correct")
    mix = {label: _share(counts.get(label, 0), failures) for label in LABELS
           if label != "correct"}
    factual = _share(sum(counts.get(k, 0) for k in FACTUAL), failures)
    behavioural = _share(sum(counts.get(k, 0) for k in BEHAVIOURAL), failures)
    rec, why, needed = recommend(factual, behavioural, failures, min_failures)
    advice = Advice(len(entries), len(labels), failures, mix, factual, behavioural, rec, why,
                    needed, dict(sources))
    advice.mix["correct"] = {"count": counts.get("correct", 0)}
    advice.caught = dict(Counter(k for k in map(model_failure, entries) if k))
    return advice


def recommend(factual: dict, behavioural: dict, failures: int,
              min_failures: int) -> tuple[str, str, int]:
    """(recommendation, the numbers behind it, labelled failures still needed)."""
    if failures < min_failures:
        need = min_failures - failures
        return ("not_enough_labels", f"{failures} labelled failures; the mix needs at least "
                f"{min_failures}: {need} more needed (label answers in the review queue)", need)

    def pct(part: dict) -> str:
        lo, hi = part["interval"]
        return f"{100 * part['share']:.0f}% (95% {100 * lo:.0f}-{100 * hi:.0f}%)"

    numbers = (f"of {failures} failures, {factual['count']} factual {pct(factual)} and "
               f"{behavioural['count']} behavioural {pct(behavioural)}")
    for key, part, other in (("rag", factual, behavioural),
                             ("fine_tune", behavioural, factual)):
        if part["share"] >= SHARE:
            firm = "" if part["interval"][0] >= SHARE else (
                "; the interval reaches below 70%: more labels would firm this up")
            return key, f"{numbers}: at least 70% {'factual' if key == 'rag' else 'behavioural'}" \
                        f"{firm}", 0
    return "both", f"{numbers}: neither reaches 70%", 0


# -- next actions --------------------------------------------------------------------------

def missing_topics(entries: Sequence[LoggedAnswer], include_suggestions: bool,
                   limit: int = 5) -> list[dict]:
    """Questions with a factual failure, grouped by the word they share most: what documents
    are missing."""
    factual = [e for e in entries if label_of(e, include_suggestions)[0] in FACTUAL]
    words = {e.id: content_words(_plain(e.question)) for e in factual}
    frequency = Counter(w for ws in words.values() for w in ws)
    groups: dict[str, list[str]] = {}
    for entry in factual:
        ws = words[entry.id]
        if not ws:
            continue
        topic = max(sorted(ws), key=lambda w: frequency[w])
        groups.setdefault(topic, []).append(entry.question)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
    return [{"topic": topic, "questions": len(qs), "examples": qs[:3]} for topic, qs in ranked]


def _plain(text: str) -> str:
    return re.sub(r"<[A-Z_]+>", " ", text)  # redaction placeholders are not topics


def actions(advice: Advice, entries: Sequence[LoggedAnswer], settings: Any,
            corrections: int, include_suggestions: bool = False) -> list[dict]:
    out: list[dict] = []
    if advice.recommendation in ("rag", "both"):
        topics = missing_topics(entries, include_suggestions)
        out.append({"kind": "rag", "what": "add or update documents on these topics",
                    "topics": topics})
        misses = advice.mix.get("retrieval_miss", {}).get("count", 0)
        if misses and misses >= advice.factual["count"] / 2:
            out.append({"kind": "rag", "what": "retrieval settings to try (measure each with "
                        "`appliance eval retrieval`)", "settings": [
                            f"retrieval_k = {settings.retrieval_k + 2} "
                            f"(now {settings.retrieval_k})",
                            f"chunk_size = {max(64, settings.chunk_size // 2)} "
                            f"(now {settings.chunk_size}): smaller passages rank sharper",
                            "fusion = dense or keyword (now "
                            f"{settings.fusion}) on your own questions"]})
    if advice.recommendation in ("fine_tune", "both"):
        steps = [f"{corrections} corrected answers at hand"] + [
            (f"{n:,}: reached" if corrections >= n else f"{n:,}: {n - corrections:,} more")
            for n in TRAINING_STEPS]
        out.append({"kind": "fine_tune", "what": "train a LoRA adapter on corrected answers",
                    "corrections": corrections, "thresholds": steps,
                    "command": "appliance review export --out corrections.jsonl && "
                               "appliance tune prepare --feedback corrections.jsonl "
                               "--name reviewed"})
    if advice.recommendation == "not_enough_labels":
        out.append({"kind": "label", "what": f"label {advice.needed} more failing answers",
                    "command": "appliance review next"})
    return out


def format_advice(advice: Advice) -> str:
    lines = [f"{advice.answers} answers, {advice.labelled} labelled "
             f"({', '.join(f'{n} by {s}' for s, n in sorted(advice.sources.items())) or 'none'}), "
             f"{advice.failures} failures"]
    for label, part in advice.mix.items():
        if label == "correct":
            continue
        lo, hi = part["interval"] or (0.0, 0.0)
        lines.append(f"  {label:<16} {part['count']:>5}  {100 * part['share']:5.1f}%  "
                     f"[{100 * lo:.0f}-{100 * hi:.0f}%]")
    lines.append(f"  {'correct':<16} {advice.mix['correct']['count']:>5}")
    if advice.caught:
        lines.append("the model's own answers the support check replaced (quoted or refused "
                     "instead): " + ", ".join(f"{n} {k.replace('_', ' ')}"
                                              for k, n in sorted(advice.caught.items())))
    lines.append(f"advice: {RECOMMENDATIONS[advice.recommendation]}")
    lines.append(f"  because {advice.why}")
    for action in advice.actions:
        lines.append(f"next ({action['kind']}): {action['what']}")
        for topic in action.get("topics", []):
            lines.append(f"    {topic['topic']}: {topic['questions']} question(s), e.g. "
                         f"{topic['examples'][0]!r}")
        for item in action.get("settings", []) + action.get("thresholds", []):
            lines.append(f"    {item}")
        if action.get("command"):
            lines.append(f"    $ {action['command']}")
    if advice.decision_table:
        lines.append("decision table (this box's own measurements):")
        for row in advice.decision_table:
            lines.append(f"  {row['factor']:<28} {row['value']:<44} favours {row['favours']:<10}"
                         f" ({row['source']})")
    return "\n".join(lines)

