"""Prometheus counters of the message machinery, correct across processes.

``prometheus_client`` keeps its values in memory, or, when ``PROMETHEUS_MULTIPROC_DIR`` is
set before it is first imported, in files of that directory that a scrape adds up (gunicorn
workers). One ``Metrics`` per process (``process_metrics``): two objects for one series in
one process would overwrite each other's files. A scrape builds a registry of its own
(``exposition``), with the gauges that are read at scrape time (outbox, consumer backlog).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

#: Seconds; HTTP answers are mostly milliseconds.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters: HTTP requests, messages handled/failed/retried, dead letters, publishes."""

    def __init__(self, namespace: str = "shop") -> None:
        self.namespace = ns = namespace
        self.http_requests = Counter(
            "http_requests", "HTTP requests answered", ["method", "route", "status"],
            namespace=ns, registry=None,
        )  # fmt: skip
        self.http_duration = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request",
            ["method", "route", "status"], namespace=ns, registry=None, buckets=DURATION_BUCKETS,
        )  # fmt: skip
        labels = ["kind", "type"]
        self.messages_handled = Counter(
            "messages_handled", "Commands applied; events applied by all their handlers", labels,
            namespace=ns, registry=None,
        )  # fmt: skip
        self.messages_failed = Counter(
            "messages_failed", "Commands that failed; event handlers given up on", labels,
            namespace=ns, registry=None,
        )  # fmt: skip
        self.messages_retried = Counter(
            "messages_retried", "Handler attempts repeated after a failure", labels,
            namespace=ns, registry=None,
        )  # fmt: skip
        self.dead_letters = Counter(
            "dead_letters", "Messages in sent to the dead-letter stream, by error kind", ["kind"],
            namespace=ns, registry=None,
        )  # fmt: skip
        self.relay_published = Counter(
            "relay_published", "Integration events the relay published", ["type"],
            namespace=ns, registry=None,
        )  # fmt: skip
        self._children: dict[tuple[Any, ...], Any] = {}

    @property
    def collectors(self) -> tuple[Counter | Histogram, ...]:
        """Every metric of this object, for a registry of one process."""
        return (
            self.http_requests, self.http_duration, self.messages_handled, self.messages_failed,
            self.messages_retried, self.dead_letters, self.relay_published,
        )  # fmt: skip

    def _child(self, metric: Any, *labels: str) -> Any:
        # ``labels()`` takes a lock and builds a key each time: keep the children.
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def http(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count an HTTP answer and its duration."""
        code = str(status)
        self._child(self.http_requests, method, route, code).inc()
        self._child(self.http_duration, method, route, code).observe(seconds)

    def handled(self, kind: str, name: str) -> None:
        """A command was applied, or an event by all its handlers (or found already applied)."""
        self._child(self.messages_handled, kind, name).inc()

    def failed(self, kind: str, name: str) -> None:
        """A command's handler failed, or an event's handler was given up on."""
        self._child(self.messages_failed, kind, name).inc()

    def retried(self, kind: str, name: str) -> None:
        """A handler is tried again after a failure."""
        self._child(self.messages_retried, kind, name).inc()

    def dead_lettered(self, error: str) -> None:
        """A message went to the dead-letter stream; ``error`` is ``Kind: detail``."""
        kind = error.split(":", 1)[0].strip() or "Unknown"
        self._child(self.dead_letters, kind[:60]).inc()

    def published(self, types: Iterable[str]) -> None:
        """The relay published events of these types (one entry per event)."""
        for name in types:
            self._child(self.relay_published, name).inc()


@functools.cache
def process_metrics(namespace: str = "shop") -> Metrics:
    """This process's metrics (one per process and namespace)."""
    return Metrics(namespace)


def gauge(name: str, documentation: str, value: float) -> Metric:
    """A gauge read at scrape time."""
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


class ScrapeTimeCollector:
    """A collector whose metrics a function reads when scraped (database, Redis)."""

    def __init__(self, read: Callable[[], Iterable[Metric]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        """The metrics, read now."""
        yield from self._read()


def exposition(metrics: Metrics, *scrape_time: ScrapeTimeCollector) -> bytes:
    """The Prometheus text of every process's counters and of the gauges read now."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_DIR):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in metrics.collectors:
            registry.register(collector)
    for extra in scrape_time:
        registry.register(extra)  # type: ignore[arg-type]
    return generate_latest(registry)
