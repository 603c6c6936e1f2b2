"""Keeping values out of logs and audit records: counts by type, and a redacting log filter."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Iterable

from .findings import Finding


def summarize(findings: Iterable[Finding]) -> dict[str, int]:
    """{type: count} for audit records: what was found, never the values."""
    return dict(sorted(Counter(f.type for f in findings).items()))


class RedactingLogFilter(logging.Filter):
    """A logging filter that redacts each record's message with the policy's ``logs`` rules.

    Attach it to handlers: ``handler.addFilter(RedactingLogFilter(redactor))``. The formatted
    message replaces msg/args, so values never reach a handler.
    """

    def __init__(self, redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the caller's bug; keep the raw msg
            message = str(record.msg)
        result = self._redactor.redact(message, "logs")
        record.msg, record.args = result.text, None
        if result.counts:
            record.pii_counts = result.counts
        return True
