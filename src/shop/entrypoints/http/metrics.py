"""``GET /metrics``: the Prometheus text of every worker's counters and the backlog gauges.

Counters live in each process (in ``PROMETHEUS_MULTIPROC_DIR`` under gunicorn, added up at
scrape time). The backlog is read when scraped, from where it is kept: the outbox's pending
rows and their oldest age from the database, the consumer group's pending entries from
Redis. A part that does not answer is left out of that scrape, never a failed scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import Metric
from redis.exceptions import RedisError, ResponseError

from seedwork.observability.metrics import Metrics, ScrapeTimeCollector, exposition, gauge
from seedwork.redis.channels import Channels
from seedwork.sqlalchemy.outbox_status import outbox_status
from shop.adapters import tables as db
from shop.bootstrap import Shop

log = logging.getLogger("shop.metrics")

#: The consumer group that reads the commands stream (CONTRACT §3).
CONSUMER_GROUP = "shop"


def register_metrics(app: Flask) -> None:
    """Serve ``GET /metrics`` (staff only, CONTRACT §4: guarded with the other routes)."""
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])


def metrics_view() -> Response:
    """The Prometheus text exposition."""
    metrics: Metrics = current_app.extensions["metrics"]
    shop: Shop | None = current_app.extensions.get("shop")
    scrape_time = []
    if shop is not None:
        scrape_time = [
            ScrapeTimeCollector(lambda: outbox_gauges(shop)),
            ScrapeTimeCollector(lambda: consumer_gauges(shop)),
        ]
    return Response(exposition(metrics, *scrape_time), content_type=CONTENT_TYPE_LATEST)


def outbox_gauges(shop: Shop) -> Iterator[Metric]:
    """How far behind the relay is, from the outbox table."""
    try:
        status = outbox_status(shop.engine, db.seedwork_tables.outbox)
    except Exception as error:  # noqa: BLE001 - a scrape without these beats a failed scrape
        log.warning("metrics: outbox status unavailable error=%s", type(error).__name__)
        return
    yield gauge("shop_outbox_pending", "Events in the outbox not relayed yet", status.pending)
    yield gauge("shop_outbox_failed", "Pending events whose publishing failed", status.failed)
    yield gauge(
        "shop_outbox_oldest_pending_age_seconds",
        "Age of the oldest event not relayed yet (0 when none)",
        status.oldest_pending_age or 0.0,
    )


def consumer_gauges(shop: Shop) -> Iterator[Metric]:
    """Commands read from the stream and not acknowledged yet (the consumer group's PEL)."""
    if shop.redis is None:
        return
    stream = Channels(shop.settings.channel_prefix).commands_stream
    try:
        summary: Any = shop.redis.xpending(stream, CONSUMER_GROUP)
        pending = int(summary["pending"])
    except ResponseError as error:
        if "NOGROUP" not in str(error):
            log.warning("metrics: consumer pending unavailable error=%s", error)
            return
        pending = 0  # no consumer has read the stream yet
    except RedisError as error:
        log.warning("metrics: consumer pending unavailable error=%s", type(error).__name__)
        return
    yield gauge(
        "shop_consumer_pending", "Commands read from the stream, not yet acknowledged", pending
    )
