"""QualityService: the failure audit over the answer log, the advice, the review queue's
actions and the before/after comparison. Each advice run and each label is audited (counts
and ids, never text)."""
from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..answering import LoggedAnswer
from ..audit import QUALITY_ADVISE, QUALITY_LABEL
from ..errors import InvalidRequest
from .advisor import Advice, actions, failure_mix
from .decision_table import decision_table
from .prelabels import Rules, prelabel_pending
from .synthesis import acceptance, reviewed_pairs

ANSWER_CHANNELS = ("web", "api", "cli", "eval")  # what users were answered (not "synth")


def parse_since(text: str | None) -> float | None:
    """A date (YYYY-MM-DD, UTC) or a number of days back ("7d") as a timestamp."""
    if not text:
        return None
    if text.endswith("d") and text[:-1].isdigit():
        return time.time() - int(text[:-1]) * 86400
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise InvalidRequest(f"--since must be a date (YYYY-MM-DD) or days back (7d), "
                             f"not {text!r}") from None


class QualityService:
    def __init__(self, app: Any):
        self.app = app
        self.log = app.answer_log
        self.rules = Rules.from_settings(app.settings)

    def entries(self, last: int | None = 200, since: float | None = None,
                collection: str | None = None, synthetic: bool = False) -> list[LoggedAnswer]:
        """Logged answers (with `synthetic`, the synthesized training pairs too) with their
        automatic pre-labels filled in."""
        channels = None if synthetic else ANSWER_CHANNELS
        entries = self.log.entries(last=last, since=since, collection=collection,
                                   channels=channels)
        return self._suggested(entries)

    def _suggested(self, entries: list[LoggedAnswer]) -> list[LoggedAnswer]:
        """The entries with pre-labels made (and stored) for those that had none."""
        fresh = prelabel_pending(self.log, [e for e in entries if e.channel != "synth"],
                                 self.rules)
        return [dataclasses.replace(e, suggestion=fresh[e.id], suggestion_reason="(new)")
                if e.id in fresh else e for e in entries]

    def advise(self, last: int | None = 200, since: float | None = None,
               collection: str | None = None, include_suggestions: bool = False,
               actor: str | None = None, table: bool = True) -> Advice:
        entries = self.entries(last, since, collection)
        advice = failure_mix(entries, include_suggestions, self.app.settings.advisor_min_failures)
        all_corrections = self.log.corrections()
        advice.actions = actions(advice, entries, self.app.settings, all_corrections,
                                 include_suggestions)
        if table:
            advice.decision_table = decision_table(advice, entries, all_corrections, self.app,
                                                   self._policy())
        if self.app.audit is not None:
            self.app.audit.record(QUALITY_ADVISE, actor=actor, details={
                "answers": advice.answers, "labelled": advice.labelled,
                "failures": advice.failures, "recommendation": advice.recommendation,
                "mix": {k: v["count"] for k, v in advice.mix.items()},
                "last": last, "collection": collection,
                "include_suggestions": include_suggestions})
        return advice

    def _policy(self):
        from ..privacy import load_settings_policy

        try:
            return load_settings_policy(self.app.settings)
        except Exception:  # noqa: BLE001 - a broken policy stops serving, not the advice
            return None

    def compare(self, before: tuple[float | None, float | None],
                after: tuple[float | None, float | None], collection: str | None = None,
                include_suggestions: bool = False) -> dict:
        """The failure mix of the answers in two time windows, on the questions asked in both
        (the latest answer to each question in each window)."""
        entries = self.entries(None, collection=collection)
        sides = {}
        for name, (start, end) in (("before", before), ("after", after)):
            latest: dict[str, LoggedAnswer] = {}
            for e in entries:
                if (start is None or e.created_at >= start) and (end is None
                                                                 or e.created_at < end):
                    latest[_key(e.question)] = e
            sides[name] = latest
        common = sorted(set(sides["before"]) & set(sides["after"]))
        out = {"questions": len(common)}
        for name, latest in sides.items():
            chosen = [latest[q] for q in common]
            mix = failure_mix(chosen, include_suggestions, 0)
            out[name] = {"answers": len(chosen), "labelled": mix.labelled,
                         "failures": mix.failures,
                         "mix": {k: v["count"] for k, v in mix.mix.items()},
                         "paths": _paths(chosen)}
        return out

    def mix_svg(self, weeks: int = 12) -> str:
        """The labelled failures by week and kind, as an SVG the appliance serves itself."""
        from .mix_plot import mix_svg, weekly_mix

        return mix_svg(weekly_mix(self.log.entries(last=None, since=time.time()
                                                   - weeks * 7 * 86400), weeks))

    # -- the review queue ----------------------------------------------------------------

    def queue(self, limit: int = 50) -> list[LoggedAnswer]:
        """Answers waiting for a reviewer: down-voted first, then unlabelled, oldest first."""
        pending = self._suggested(self.log.entries(last=None, review="pending"))
        downvoted = [e for e in pending if (e.feedback or {}).get("rating") == "down"]
        rest = [e for e in pending if e not in downvoted]
        return (downvoted + rest)[:limit]

    def entry(self, log_id: int) -> LoggedAnswer:
        """One logged answer with its pre-label."""
        return self._suggested([self.log.get(log_id)])[0]

    def label(self, log_id: int, label: str, reviewer: str, review: str = "accepted",
              correction: str | None = None) -> LoggedAnswer:
        if correction:
            correction = self.app.redactor.redact(correction, "prompt").text
        entry = self.log.label(log_id, label, reviewer, review, correction)
        if self.app.audit is not None:
            self.app.audit.record(QUALITY_LABEL, actor=reviewer, target=f"answer:{log_id}",
                                  details={"answer_id": log_id, "label": label, "review": review,
                                           "suggestion": entry.suggestion,
                                           "corrected": bool(correction)})
        return entry

    def synthetic_acceptance(self) -> dict:
        return acceptance(self.log.entries(last=None, channels=("synth",)))

    def reviewed_pairs(self) -> list[dict]:
        return reviewed_pairs(self.log.entries(last=None, channels=("synth",)))

    def export_corrections(self, out: Path) -> int:
        """Reviewed corrections as `tune prepare --feedback` records: {question, context (the
        passages shown, in order), corrected_answer}; edited reviews and users' corrections,
        redacted as stored."""
        rows = []
        for e in self.entries(None):
            corrected = e.correction if e.review == "edited" else (e.feedback or {}).get(
                "correction")
            if not corrected or e.review == "rejected":
                continue
            context = [p["text"] for p in e.shown]  # the passages the answer's [n] number
            rows.append({"question": e.question, "context": context,
                         "corrected_answer": corrected, "answer_log_id": e.id})
        Path(out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                             encoding="utf-8")
        return len(rows)


def _key(question: str) -> str:
    return " ".join(question.lower().split())


def _paths(entries: Sequence[LoggedAnswer]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in entries:
        out[e.path] = out.get(e.path, 0) + 1
    return out

