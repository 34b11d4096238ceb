"""One trace: an HTTP command, its reaction, the relay, and a consumer in another process.

This process traces into memory; the second one is a real ``shop consumer`` configured only by
``OTEL_*`` variables (the console exporter: its spans as JSON on its stdout). Between them is
Redis: the warehouse (this test) reads ``OrderConfirmed`` and sends ``ShipOrder`` carrying the
event's ``traceparent``, as a system that propagates W3C trace context does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis import Redis

from seedwork.core.messages import new_id
from seedwork.observability.tracing import Tracing
from seedwork.redis.channels import Channels
from seedwork.sqlalchemy.outbox_status import outbox_status
from seedwork.sqlalchemy.relay import OutboxRelay, PublishFailed
from shop.adapters import tables as db
from shop.bootstrap import Shop
from shop.domain.integration import INTEGRATION_EVENTS, wire_names
from shop.entrypoints.workers import build_relay
from tests.integration.observability.conftest import call, create_client, draft_order
from tests.integration.redis.world import stream_messages
from tests.waiting import eventually

Span = dict[str, Any]


def spans_of(text: str) -> list[Span]:
    """The JSON objects the console exporter wrote one after the other."""
    decoder = json.JSONDecoder()
    found, position = [], 0
    while (start := text.find("{", position)) >= 0:
        span, position = decoder.raw_decode(text, start)
        found.append(span)
    return found


def the(spans: list[Span], name: str) -> Span:
    named = [span for span in spans if span["name"] == name]
    assert len(named) == 1, f"{len(named)} spans named {name!r}: {[s['name'] for s in spans]}"
    return named[0]


def span_id(span: Span) -> str:
    return str(span["context"]["span_id"])


def test_an_http_command_its_reaction_and_a_consumer_elsewhere_make_one_trace(
    wired: Callable[..., Shop], redis: Redis, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    shop = wired(tracing=Tracing(provider))
    client = create_client(shop)
    channels = Channels(shop.settings.channel_prefix)
    order_id = draft_order(client, f"SKU-{uuid.uuid4().hex[:8].upper()}")
    build_relay(shop).drain()
    exporter.clear()

    call(client, "POST", f"/orders/{order_id}/place", 202)
    build_relay(shop).drain()
    confirmed = next(
        event
        for event in stream_messages(redis, channels.events_stream)
        if event["type"] == "OrderConfirmed" and event["payload"]["order_id"] == order_id
    )
    ship = {
        "type": "ShipOrder",
        "message_id": new_id(),
        "correlation_id": confirmed["correlation_id"],
        "traceparent": confirmed["traceparent"],
        "payload": {"order_id": order_id, "tracking_number": "TRK-1"},
    }
    redis.xadd(channels.commands_stream, {"message": json.dumps(ship)})
    here = [json.loads(span.to_json()) for span in exporter.get_finished_spans()]
    consumer_spans = run_consumer_until_shipped(shop, client, order_id, tmp_path)
    everything = here + consumer_spans
    assert {span["context"]["trace_id"] for span in everything} == {
        here[0]["context"]["trace_id"]
    }, "more than one trace"
    correlation = confirmed["correlation_id"]

    http = the(here, "POST /orders/<order_id>/place")
    assert http["parent_id"] is None and http["kind"] == "SpanKind.SERVER"
    command = the(here, "command PlaceOrder")
    assert command["parent_id"] == span_id(http)
    writes = [span for span in here if span["name"] == "outbox write"]
    assert any(span["parent_id"] == span_id(command) for span in writes)
    reactions = [span for span in here if span["name"].startswith("reaction OrderPlaced ")]
    assert reactions and all(span["parent_id"] == span_id(command) for span in reactions)
    # The event names the span that made it: one of OrderPlaced's reactions (the allocation).
    maker = confirmed["traceparent"].split("-")[2]
    making = next(span for span in here if span_id(span) == f"0x{maker}")
    assert making in reactions
    assert any(span["parent_id"] == span_id(making) for span in writes)
    publish = the(here, "publish OrderConfirmed")
    assert publish["parent_id"] == span_id(making) and publish["kind"] == "SpanKind.PRODUCER"

    consume = the(consumer_spans, "consume ShipOrder")
    assert consume["parent_id"] == span_id(making) and consume["kind"] == "SpanKind.CONSUMER"
    assert consume["resource"]["attributes"]["service.name"] == "shop-warehouse-side"
    shipping = the(consumer_spans, "command ShipOrder")
    assert shipping["parent_id"] == span_id(consume)
    # The shipping's commit (stock leaving its batch and the views, inline) and any reaction.
    shipped = [
        span
        for span in consumer_spans
        if span["name"] == "outbox write" or span["name"].startswith("reaction ")
    ]
    assert any(span["name"] == "outbox write" for span in shipped), [
        span["name"] for span in consumer_spans
    ]
    assert all(span["parent_id"] == span_id(shipping) for span in shipped)

    handled = [span for span in shipped if span["name"] != "outbox write"]
    for span in [command, *reactions, consume, shipping, *handled]:
        assert span["attributes"]["shop.correlation_id"] == correlation
    assert http["attributes"]["shop.correlation_id"] == correlation


def run_consumer_until_shipped(
    shop: Shop, client: Any, order_id: str, directory: Path
) -> list[Span]:
    """Run ``shop consumer`` in its own process until the order shipped; its spans.

    (The polling requests are traces of their own, in this process: not the ones looked at.)
    """
    out, err = directory / "consumer.out", directory / "consumer.err"
    environment = {
        **os.environ,
        "DATABASE_URL": shop.engine.url.render_as_string(hide_password=False),
        "REDIS_URL": shop.settings.redis_url or "",
        "SHOP_CHANNEL_PREFIX": shop.settings.channel_prefix,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": "shop-warehouse-side",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "shop.entrypoints.cli", "consumer", "--workers", "1"],
            env=environment,
            cwd=directory,
            stdout=stdout,
            stderr=stderr,
        )
        try:

            def shipped() -> bool:
                assert process.poll() is None, err.read_text()
                return bool(call(client, "GET", f"/orders/{order_id}", 200)["status"] == "shipped")

            eventually(shipped, timeout=30, every=0.1, explain=err.read_text)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0, err.read_text()
    return spans_of(out.read_text())


class DownPublisher:
    """A Redis that refuses every publish."""

    def publish_batch(self, messages: list[tuple[str, str]]) -> None:
        raise ConnectionError("redis is down")


def test_a_publish_that_fails_ends_its_spans_marked_failed_and_nothing_is_marked_sent(
    wired: Callable[..., Shop],
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    shop = wired(tracing=Tracing(provider))
    client = create_client(shop)
    price = {"amount": 100, "currency": "EUR"}
    sku = f"SKU-{uuid.uuid4().hex[:8].upper()}"
    call(client, "POST", "/products", 201, json={"sku": sku, "name": "A thing", "price": price})
    relay = OutboxRelay(
        shop.engine,
        db.seedwork_tables.outbox,
        DownPublisher(),
        Channels(shop.settings.channel_prefix).event_channel,
        wire_names(INTEGRATION_EVENTS),
        tracing=shop.tracing,
    )
    with pytest.raises(PublishFailed):
        relay.relay_once()
    relay.close()
    publish = the(
        [json.loads(s.to_json()) for s in exporter.get_finished_spans()], "publish ProductAdded"
    )
    assert publish["status"]["status_code"] == "ERROR"
    assert "redis is down" in publish["status"]["description"]
    assert outbox_status(shop.engine, db.seedwork_tables.outbox).pending == 1
