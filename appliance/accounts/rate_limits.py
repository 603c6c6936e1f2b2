"""Per-user request rates on the API: a token bucket per user and kind of request.

A bucket holds up to `per_minute` tokens and refills at `per_minute` a minute; each request
takes one. An empty bucket answers RateLimited with the seconds until the next token
(HTTP 429 with Retry-After). Buckets live in the serving process: with several workers each
keeps its own, so a user's effective rate is up to `web_workers` times the setting.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable

from .errors import RateLimited

IDLE_BUCKETS = 10_000  # past this many users, buckets full again are dropped


class RateLimiter:
    """`check(user, kind)` takes a token or raises RateLimited."""

    def __init__(self, limits: dict[str, int], clock: Callable[[], float] = time.monotonic):
        """`limits` maps a kind of request to its tokens a minute (0: unlimited)."""
        self.limits = dict(limits)
        self.clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # tokens, at
        self._lock = threading.Lock()

    def check(self, user: str, kind: str) -> None:
        per_minute = self.limits.get(kind, 0)
        if per_minute <= 0:
            return
        rate = per_minute / 60.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get((user, kind), (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[(user, kind)] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / rate)
                raise RateLimited(f"too many {kind} requests: the limit is {per_minute} a "
                                  f"minute; try again in {wait} s", wait)
            self._buckets[(user, kind)] = (tokens - 1.0, now)
            if len(self._buckets) > IDLE_BUCKETS:
                self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            per_minute = self.limits.get(key[1], 0)
            if tokens + (now - at) * per_minute / 60.0 >= per_minute:
                del self._buckets[key]
