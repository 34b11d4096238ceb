"""``GET /metrics`` after a story: the counters it must have moved, and the backlog gauges."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from redis import Redis

from seedwork.redis.channels import Channels
from shop.bootstrap import Shop
from shop.domain import events
from shop.entrypoints.workers import build_consumer, build_relay
from tests.integration.observability.conftest import (
    call,
    create_client,
    draft_order,
    scrape,
    value,
)


def test_a_story_moves_the_counters_it_must(wired: Callable[..., Shop], redis: Redis) -> None:
    shop = wired()
    client = create_client(shop)
    before = scrape(client)
    sku = f"SKU-{uuid.uuid4().hex[:8].upper()}"
    order_id = draft_order(client, sku)
    call(client, "POST", f"/orders/{order_id}/place", 202)
    call(client, "POST", f"/orders/{uuid.uuid4()}/place", 404)  # a command that fails
    call(client, "GET", f"/orders/{order_id}", 200)
    call(client, "GET", f"/no/such/{uuid.uuid4()}", 404)  # no raw path becomes a label
    refused = {"Authorization": None}  # the door answers before the view: still its route
    call(client, "GET", f"/orders/{order_id}", 401, headers=refused)
    for odd in ("BREW", "FOO1", "FOO2"):  # no method a client makes up becomes a label
        call(client, odd, "/products", 405)
    published = build_relay(shop).drain()
    consumer = build_consumer(shop)
    channels = Channels(shop.settings.channel_prefix)
    consumer.consume(b"{not json", channels.command_channel("ShipOrder"))
    consumer.consume(
        json.dumps({"order_id": "nope", "tracking_number": "T"}),
        channels.command_channel("ShipOrder"),
    )
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    http = "shop_http_requests_total"
    assert moved(http, method="POST", route="/orders/<order_id>/place", status="202") == 1
    assert moved(http, method="POST", route="/orders/<order_id>/place", status="404") == 1
    assert moved(http, method="GET", route="/orders/<order_id>", status="200") == 1
    assert moved(http, method="POST", route="/products", status="201") == 1
    assert moved(http, method="GET", route="/metrics", status="200") == 1  # the first scrape
    assert moved(http, method="GET", route="unmatched", status="404") == 1
    assert moved(http, method="GET", route="/orders/<order_id>", status="401") == 1
    assert moved(http, method="other", route="unmatched", status="405") == 3
    assert not any(("method", "FOO1") in labels for _, labels in after)
    timed = "shop_http_request_duration_seconds_count"
    assert moved(timed, method="POST", route="/orders/<order_id>/place", status="202") == 1
    assert value(after, "shop_http_request_duration_seconds_sum", method="POST",
                 route="/orders/<order_id>/place", status="202") > 0  # fmt: skip

    handled, failed = "shop_messages_handled_total", "shop_messages_failed_total"
    assert moved(handled, kind="command", type="PlaceOrder") == 1
    assert moved(failed, kind="command", type="PlaceOrder") == 1
    assert moved(handled, kind="command", type="AddProduct") == 1
    for event in (events.OrderPlaced, events.OrderConfirmed, events.LineAllocated):
        # Once, when all its handlers applied it (an event without any is not handled here).
        expected = 1 if shop.bus.event_handler_names(event) else 0
        assert moved(handled, kind="event", type=event.__name__) == expected
    assert moved(handled, kind="event", type="OrderPlaced") == 1
    assert moved(failed, kind="command", type="ShipOrder") == 1

    relayed = "shop_relay_published_total"
    assert moved(relayed, type="OrderPlaced") == 1
    assert moved(relayed, type="ProductAdded") == 1
    assert published >= 1
    assert moved("shop_dead_letters_total", kind="MessageError") == 1
    assert moved("shop_dead_letters_total", kind="OrderNotFound") == 1


def test_the_backlog_gauges_read_the_outbox_and_the_consumer_group(
    wired: Callable[..., Shop], redis: Redis
) -> None:
    shop = wired()
    client = create_client(shop)
    empty = scrape(client)
    assert value(empty, "shop_outbox_pending") == 0
    assert value(empty, "shop_outbox_oldest_pending_age_seconds") == 0
    assert ("shop_consumer_pending", frozenset()) in empty  # no group yet: 0, still shown

    draft_order(client, f"SKU-{uuid.uuid4().hex[:8].upper()}")
    time.sleep(0.05)
    channels = Channels(shop.settings.channel_prefix)
    redis.xgroup_create(channels.commands_stream, "shop", id="0", mkstream=True)
    for n in range(3):
        redis.xadd(channels.commands_stream, {"message": json.dumps({"n": n})})
    redis.xreadgroup("shop", "test-reader", {channels.commands_stream: ">"}, count=2)
    backlog = scrape(client)
    assert value(backlog, "shop_outbox_pending") >= 5  # nothing relayed yet
    assert value(backlog, "shop_outbox_oldest_pending_age_seconds") > 0
    assert value(backlog, "shop_consumer_pending") == 2  # read, not acknowledged

    build_relay(shop).drain()
    assert value(scrape(client), "shop_outbox_pending") == 0
