"""The appliance's metrics, kept and rendered as Prometheus text (exposition format 0.0.4) by
prometheus_client.

Every series carries a `worker` label (the pid). Under `appliance serve` the environment names
prometheus_client's multiprocess directory: each worker writes its values to files there, and a
scrape that lands on any one worker renders every worker's series. Elsewhere (CLI, tests, the
Flask test client) each `Metrics` has a registry of its own and renders this process only.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable

DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
GAUGE_REFRESH_S = 1.0

log = logging.getLogger(__name__)


def multiprocess_dir() -> str | None:
    """prometheus_client's multiprocess directory, or None when this process is on its own."""
    # The library's own switch, read the way the library reads it (at its import): not a setting.
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        return None
    from prometheus_client import values

    if not getattr(values.ValueClass, "_multiprocess", False):
        raise RuntimeError(f"{MULTIPROC_ENV} was set after prometheus_client was imported: "
                           "this process's values would not reach the shared directory")
    return path


def _worker() -> str:
    return str(os.getpid())  # at each call, not once: a fork after construction is a new worker


def _sample(metric, suffix: str, labels: dict[str, str]) -> float:
    for family in metric.collect():
        for sample in family.samples:
            if sample.name == family.name + suffix and sample.labels == labels:
                return sample.value
    return 0.0


class Counter:
    """A counter by labels; each series also carries `worker`."""

    def __init__(self, metric):
        self._metric = metric

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self._metric.labels(worker=_worker(), **labels).inc(amount)

    def value(self, **labels: str) -> float:
        """This process's current value for these labels (0 when never counted)."""
        return _sample(self._metric, "_total", {**labels, "worker": _worker()})


class Histogram:
    """A histogram of seconds; each series also carries `worker`."""

    def __init__(self, metric):
        self._metric = metric
        metric.labels(worker=_worker())  # zero buckets from the start, as a scraper expects

    def observe(self, value: float) -> None:
        self._metric.labels(worker=_worker()).observe(value)

    @property
    def count(self) -> int:
        """Observations in this process."""
        return int(_sample(self._metric, "_count", {"worker": _worker()}))


class Metrics:
    """The appliance's metrics: this process's, or every worker's under `appliance serve`."""

    def __init__(self) -> None:
        import prometheus_client as prom

        prom.disable_created_metrics()  # no `*_created` series: they were never in this output
        self._dir = multiprocess_dir()
        # Multiprocess: the values live in the directory's files and render() reads them all,
        # so the metrics join no registry (two Metrics would clash on the global one).
        self._registry = None if self._dir else prom.CollectorRegistry()
        self._gauges: list[tuple[object, Callable[[], float]]] = []
        self._collectors: list[object] = []
        self._refresher: threading.Thread | None = None

        def counter(name, help_text, labels):
            return Counter(prom.Counter(name, help_text, (*labels, "worker"),
                                        registry=self._registry))

        def histogram(name, help_text):
            return Histogram(prom.Histogram(name, help_text, ("worker",),
                                            buckets=DEFAULT_BUCKETS, registry=self._registry))

        self.http_requests = counter(
            "appliance_http_requests_total", "HTTP requests by endpoint, method and status.",
            ("endpoint", "method", "status"))
        self.asks = counter(
            "appliance_asks_total", "Questions by outcome (answered, refused, cancelled, error).",
            ("outcome",))
        self.queue_wait = histogram(
            "appliance_queue_wait_seconds", "Time a question waited for the model.")
        self.first_token = histogram(
            "appliance_time_to_first_token_seconds",
            "From the request to the first answer token, queue wait included.")
        self.answer_time = histogram(
            "appliance_answer_seconds", "From the request to the complete answer.")

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """A gauge of this worker whose value `read()` gives."""
        from prometheus_client import Gauge

        # Gauge.set_function does not work across processes, so the value is written from
        # read(). "livesum": a dead worker's gauges leave the output (mark_process_dead), and
        # the sum runs per label set, which holds `worker`, so each worker keeps its own
        # series ("liveall" would add a `pid` label repeating `worker`).
        metric = Gauge(name, help_text, ("worker",), registry=self._registry,
                       multiprocess_mode="livesum")
        metric.labels(worker=_worker()).set(read())
        self._gauges.append((metric, read))
        if self._dir and self._refresher is None:
            # A scrape reads the other workers' gauges from their files: keep this worker's
            # fresh between the scrapes that land here, not only at them.
            self._refresher = threading.Thread(target=self._keep_gauges_fresh,
                                               name="metrics-gauges", daemon=True)
            self._refresher.start()

    def store_gauges(self, collect: Callable[[], list[tuple[str, str, list]]]) -> None:
        """Gauges read from the store at each scrape: the same for every worker, so they carry
        no `worker` label. `collect()` gives (name, help, [(labels dict, value), ...])."""
        from prometheus_client.core import GaugeMetricFamily

        class StoreGauges:
            def collect(self):
                for name, help_text, samples in collect():
                    keys = sorted({k for labels, _ in samples for k in labels})
                    family = GaugeMetricFamily(name, help_text, labels=keys)
                    for labels, value in samples:
                        family.add_metric([str(labels.get(k, "")) for k in keys], value)
                    yield family

        collector = StoreGauges()
        self._collectors.append(collector)
        if self._registry is not None:
            self._registry.register(collector)

    def _refresh_gauges(self) -> None:
        for metric, read in self._gauges:
            metric.labels(worker=_worker()).set(read())

    def _keep_gauges_fresh(self) -> None:
        while True:
            time.sleep(GAUGE_REFRESH_S)
            try:
                self._refresh_gauges()
            except Exception:  # a failing read must not end the refresh for good
                log.exception("metrics: a gauge could not be read")

    def render(self) -> str:
        """Prometheus text: every worker's series in multiprocess mode, else this process's."""
        from prometheus_client import CollectorRegistry, generate_latest

        self._refresh_gauges()
        registry = self._registry
        if self._dir:
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self._dir)
            for collector in self._collectors:
                registry.register(collector)
        return generate_latest(registry).decode("utf-8")
