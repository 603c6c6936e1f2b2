"""StreamRedactor: redacts generated text piece by piece without ever emitting part of a value.

Text is held back until a *safe cut*: a point after which nothing emitted so far can become part
of an identifier. A cut is safe after whitespace that follows a plain lower-case word (no
identifier we detect continues across one, connector words like "of" or "van" excepted) or a
newline, and at least CONTEXT_AFTER characters before the end of what has arrived, so context
words after a value count as they do in batch mode. If a detected value crosses the cut, the cut
moves to its start. A run with no safe cut is forced out once it exceeds ``max_hold`` characters,
still never inside a detected value.
"""
from __future__ import annotations

import re
from collections import Counter

from .recognizers.base import CONTEXT_AFTER, CONTEXT_BEFORE

_CONNECTORS = frozenset({"of", "de", "del", "della", "la", "le", "du", "des", "van", "von", "der",
                         "den", "da", "di", "dos", "das", "and", "the", "y", "e", "bin", "bint",
                         "al", "el", "ibn", "rue", "bis", "ter", "for", "on", "at", "upon", "in"})
_TOKEN_THEN_SPACE = re.compile(r"(\S+)(\s+)")
_STRIP = ".,;:!?)]}\"'"
_TAIL_KEEP = max(CONTEXT_BEFORE, 200)  # emitted text kept as left context for detection


class StreamRedactor:
    """Feed pieces with ``feed()``; it returns the text that is safe to show now. ``flush()``
    returns the rest at the end. ``counts`` accumulates findings rewritten so far, per type."""

    def __init__(self, redactor, path: str, ctx, max_hold: int = 256) -> None:
        self._redactor = redactor
        self._path = path
        self._ctx = ctx
        self._max_hold = max_hold
        self._pending = ""
        self._tail = ""
        self._closed = False
        self.counts: Counter[str] = Counter()

    def feed(self, piece: str) -> str:
        """Add generated text; return redacted text that can be emitted now (maybe "")."""
        if self._closed:
            raise ValueError("stream already flushed")
        if not self._redactor.policy.applies_to(self._path):
            return piece
        self._pending += piece
        cut = self._candidate_cut()
        if cut <= 0:
            return ""
        return self._emit(cut)

    def flush(self) -> str:
        """Redact and return everything still held back; the stream is then closed."""
        out = self._emit(len(self._pending)) if self._pending else ""
        self._closed = True
        return out

    def _candidate_cut(self) -> int:
        text = self._pending
        limit = len(text) - CONTEXT_AFTER
        best = 0
        for m in _TOKEN_THEN_SPACE.finditer(text):
            end = m.end()
            if end > limit:
                break
            token = m.group(1).rstrip(_STRIP)
            if "\n" in m.group(2) or (len(token) >= 2 and token.isalpha() and token.islower()
                                      and token not in _CONNECTORS):
                best = end
        if best == 0 and len(text) > self._max_hold:
            forced = text.rfind(" ", 0, len(text) - self._max_hold // 2)
            best = forced + 1 if forced > 0 else len(text) - self._max_hold // 2
        return best

    def _emit(self, cut: int) -> str:
        offset = len(self._tail)
        window = self._tail + self._pending
        findings = self._redactor.detect_many([window], self._path)[0]
        # A value crossing the cut is held back whole; one reaching into the already emitted
        # tail (left context changed what was detected) is clipped to the part not yet shown.
        for f in sorted(findings, key=lambda f: f.start, reverse=True):
            if f.start - offset < cut < f.end - offset:
                cut = max(0, f.start - offset)
        if cut <= 0:
            return ""
        mine = []
        for f in findings:
            start, end = max(f.start - offset, 0), f.end - offset
            if end <= 0 or start >= cut:
                continue
            mine.append(type(f)(f.type, start, end, f.score, f.source))
        emitted = self._pending[:cut]
        result = self._redactor.apply(emitted, mine, self._path, self._ctx)
        self.counts.update(result.counts)
        self._tail = (self._tail + emitted)[-_TAIL_KEEP:]
        self._pending = self._pending[cut:]
        return result.text
