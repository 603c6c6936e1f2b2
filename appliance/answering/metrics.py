"""A small in-process metrics registry rendered as Prometheus text (exposition format 0.0.4).

Per worker process: each series carries a `worker` label (the pid) so a scraper that reaches
several workers through one port can tell them apart. Thread-safe.
"""
from __future__ import annotations

import math
import os
import threading
from typing import Callable

DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)


def _labels(pairs: dict[str, str]) -> str:
    if not pairs:
        return ""
    body = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(pairs.items()))
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str):
        self.name, self.help = name, help_text
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str):
        super().__init__(name, help_text)
        self._values: dict[tuple, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(tuple(sorted(labels.items())), 0.0)

    def lines(self, base: dict[str, str]) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(base | dict(k))} {_num(v)}" for k, v in items]


class Gauge(_Metric):
    """A value read at scrape time from a callback."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read: Callable[[], float]):
        super().__init__(name, help_text)
        self.read = read

    def lines(self, base: dict[str, str]) -> list[str]:
        return [f"{self.name}{_labels(base)} {_num(self.read())}"]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets=DEFAULT_BUCKETS):
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets)) + (math.inf,)
        self._counts = [0] * len(self.buckets)
        self._sum = 0.0
        self._n = 0

    def observe(self, value: float) -> None:
        with self._lock:
            self._sum += value
            self._n += 1
            for i, edge in enumerate(self.buckets):
                if value <= edge:
                    self._counts[i] += 1

    @property
    def count(self) -> int:
        return self._n

    def lines(self, base: dict[str, str]) -> list[str]:
        with self._lock:
            counts, total, n = list(self._counts), self._sum, self._n
        out = [f"{self.name}_bucket{_labels(base | {'le': _num(edge)})} {c}"
               for edge, c in zip(self.buckets, counts)]
        return out + [f"{self.name}_sum{_labels(base)} {_num(total)}",
                      f"{self.name}_count{_labels(base)} {n}"]


class Metrics:
    """The appliance's metrics for this process."""

    def __init__(self) -> None:
        self._all: list[_Metric] = []
        self.http_requests = self._add(Counter(
            "appliance_http_requests_total", "HTTP requests by endpoint, method and status."))
        self.asks = self._add(Counter(
            "appliance_asks_total", "Questions by outcome (answered, refused, cancelled, error)."))
        self.queue_wait = self._add(Histogram(
            "appliance_queue_wait_seconds", "Time a question waited for the model."))
        self.first_token = self._add(Histogram(
            "appliance_time_to_first_token_seconds",
            "From the request to the first answer token, queue wait included."))
        self.answer_time = self._add(Histogram(
            "appliance_answer_seconds", "From the request to the complete answer."))

    def _add(self, metric):
        self._all.append(metric)
        return metric

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self._add(Gauge(name, help_text, read))

    def render(self) -> str:
        base = {"worker": str(os.getpid())}
        lines: list[str] = []
        for metric in self._all:
            lines += metric.header() + metric.lines(base)
        return "\n".join(lines) + "\n"
