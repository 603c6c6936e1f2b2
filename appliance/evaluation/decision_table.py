"""The usual RAG-or-fine-tune decision table, filled in from this box's own measurements.

One row per factor: its value, the side it favours, and where the number came from.
Thresholds (docs/quality.md): documents changing weekly favour RAG (an adapter needs
retraining for each change); a factual failure mix favours RAG, a behavioural one fine-tuning;
fewer than 500 reviewed examples is too little to fine-tune; retrieval and context adding
more than 2 s to an answer favours fine-tuning; a redacting PII policy favours RAG (data stays
in documents that access control and erasure reach, not in weights); cost compares a quarter's
context prefill at the observed volume with training once on 1,000 examples.
"""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import func, select

from ..answering import LoggedAnswer
from ..store import AuditEventTable

WEEK = 7 * 86400
DOC_EVENTS = ("document.ingest", "document.version", "document.delete")
LATENCY_LIMIT_S = 2.0


def _row(factor: str, value: str, favours: str, source: str) -> dict:
    return {"factor": factor, "value": value, "favours": favours, "source": source}


def update_frequency(store: Any, now: float, weeks: int = 4) -> dict:
    since = datetime.fromtimestamp(now - weeks * WEEK, timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")  # audit timestamps sort as text
    with store.session() as s:
        counts = dict(s.execute(select(AuditEventTable.type, func.count(AuditEventTable.seq))
                                .where(AuditEventTable.type.in_(DOC_EVENTS),
                                       AuditEventTable.ts >= since)
                                .group_by(AuditEventTable.type)).all())
    added = counts.get("document.ingest", 0) / weeks
    changed = counts.get("document.version", 0) / weeks
    removed = counts.get("document.delete", 0) / weeks
    total = added + changed + removed
    return _row("knowledge update frequency",
                f"{added:.1f} added, {changed:.1f} changed, {removed:.1f} removed a week",
                "RAG" if total >= 1 else "either",
                f"audit log, document events of the last {weeks} weeks")


def failure_type(advice: Any) -> dict:
    favours = {"rag": "RAG", "fine_tune": "fine-tuning", "both": "both",
               "not_enough_labels": "unknown"}[advice.recommendation]
    value = (f"{100 * advice.factual['share']:.0f}% factual, "
             f"{100 * advice.behavioural['share']:.0f}% behavioural of {advice.failures}")
    return _row("primary failure type", value, favours, "the failure audit above")


def training_data(corrections: int) -> dict:
    favours = "fine-tuning" if corrections >= 500 else "RAG"
    value = f"{corrections} reviewed examples (500 to start, 1,000 recommended)"
    return _row("training data at hand", value, favours, "answer log and user feedback")


def latency(entries: Sequence[LoggedAnswer]) -> dict:
    timed = [e.timings for e in entries if e.timings.get("first_token") is not None
             and e.path != "refused" and e.shown]
    if not timed:
        return _row("latency", "no answers logged yet", "unknown", "answer log timings")
    retrieve = statistics.median(t.get("retrieve", 0.0) for t in timed) / 1000
    prefill = statistics.median(max(0.0, t["first_token"] - t.get("retrieve", 0.0))
                                for t in timed) / 1000
    share = statistics.median(t.get("context_share", 0.0) for t in timed)
    added = retrieve + prefill * share
    return _row("latency", f"retrieval {retrieve:.2f} s + context {prefill * share:.2f} s "
                f"a answer (p50; the passages are {100 * share:.0f}% of the prompt)",
                "fine-tuning" if added > LATENCY_LIMIT_S else "RAG",
                f"answer log timings of {len(timed)} answers; context time is the prompt's "
                "prefill time times the passages' share of its tokens")


def sensitivity(settings: Any, policy: Any) -> dict:
    name = settings.pii_policy
    redacts = bool(getattr(policy, "entities", None))
    return _row("data sensitivity", f"PII policy {name!r}" + (" redacts personal data"
                                                               if redacts else ""),
                "RAG" if redacts else "either",
                "active policy: documents stay deletable and access-controlled; weights do not")


def cost(entries: Sequence[LoggedAnswer], adapters: Sequence[Any], now: float) -> dict:
    trained = [a.training.get("seconds_per_1000_examples") for a in adapters
               if a.training.get("seconds_per_1000_examples")]
    recent = [e for e in entries if e.created_at >= now - WEEK]
    per_answer = [max(0.0, e.timings["first_token"] - e.timings.get("retrieve", 0.0)) / 1000
                  * e.timings.get("context_share", 0.0)
                  for e in recent if e.timings.get("first_token") is not None]
    if not trained:
        return _row("cost", "training time not measured on this box (appliance tune train)",
                    "unknown", "adapter registry")
    train_s = trained[-1]
    quarter = statistics.mean(per_answer) * len(recent) * 13 if per_answer else 0.0
    value = (f"training {train_s / 3600:.1f} h per 1,000 examples; context prefill "
             f"{quarter / 3600:.1f} h a quarter at {len(recent)} answers a week")
    return _row("cost", value, "RAG" if quarter < train_s else "fine-tuning",
                "adapter registry (last training) and answer log timings")


def decision_table(advice: Any, entries: Sequence[LoggedAnswer], corrections: int, app: Any,
                   policy: Any, now: float | None = None) -> list[dict]:
    now = now or time.time()
    return [update_frequency(app.store, now), failure_type(advice), training_data(corrections),
            latency(entries), sensitivity(app.settings, policy),
            cost(entries, app.adapters.list(), now)]
