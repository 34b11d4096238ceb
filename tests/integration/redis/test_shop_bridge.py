"""The shop's own bridge, as ``shop run`` wires it: real commands in, contract events out."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis

from seedwork.core.messages import new_id
from seedwork.redis.channels import Channels
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.domain.money import Money
from shop.entrypoints.workers import start_workers
from shop.migrations import upgrade
from shop.views.queries import SqlReadModels
from tests import services
from tests.integration.redis.private_server import PrivateRedis
from tests.integration.redis.world import stream_messages
from tests.waiting import eventually

WiredShop = Callable[[str], Shop]


@pytest.fixture
def shop_database() -> Iterator[str]:
    with services.fresh_postgres_database() as url:
        yield url


@pytest.fixture
def running_shop(shop_database: str, channel_prefix: str) -> Iterator[WiredShop]:
    """Wire a migrated shop on a Redis URL and start its workers, as ``shop run`` does."""
    started: list[tuple[Shop, threading.Event, list[threading.Thread]]] = []

    def start(redis_url: str) -> Shop:
        settings = Settings(
            database_url=shop_database, redis_url=redis_url, channel_prefix=channel_prefix
        )
        shop = bootstrap(settings)
        upgrade(shop.engine)
        stop = threading.Event()
        started.append((shop, stop, start_workers(shop, stop)))
        return shop

    yield start
    for shop, stop, threads in started:
        stop.set()
        for thread in threads:
            thread.join(10)
        shop.close()


def add_product(shop: Shop, sku: str = "SKU-1") -> None:
    shop.bus.handle(commands.AddProduct(sku=sku, name="A thing", price=Money.of(1250, "EUR")))


def subscribed(redis: Redis, pattern: str) -> Any:
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pattern)
    eventually(lambda: pubsub.get_message(timeout=0.01) is None and pubsub.subscribed)
    return pubsub


def next_event(pubsub: Any, timeout: float = 5.0) -> tuple[str, dict[str, Any]]:
    def pattern_message() -> Any:
        message = pubsub.get_message(timeout=0.1)
        return message if message and message["type"] == "pmessage" else None

    message = eventually(pattern_message, timeout, every=0)
    return message["channel"].decode(), json.loads(message["data"])


def test_commands_in_become_contract_events_out(
    running_shop: WiredShop, redis_url: str, channel_prefix: str
):
    shop = running_shop(redis_url)
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    events = subscribed(redis, f"{channel_prefix}.events.batch_*")
    add_product(shop)
    command_id, correlation = new_id(), new_id()
    redis.publish(
        channels.command_channel("AddBatch"),
        json.dumps(
            {
                "message_id": command_id,
                "correlation_id": correlation,
                "payload": {"reference": "b1", "sku": "SKU-1", "quantity": 10, "eta": None},
            }
        ),
    )
    channel, added = next_event(events)
    assert channel == f"{channel_prefix}.events.batch_added"
    assert added["type"] == "BatchAdded" and added["version"] == 1
    assert added["payload"] == {"reference": "b1", "sku": "SKU-1", "quantity": 10, "eta": None}
    assert (added["causation_id"], added["correlation_id"]) == (command_id, correlation)

    redis.xadd(
        channels.commands_stream,
        {
            "message": json.dumps(
                {"type": "ChangeBatchQuantity", "payload": {"reference": "b1", "quantity": 4}}
            )
        },
    )
    channel, changed = next_event(events)
    assert channel == f"{channel_prefix}.events.batch_quantity_changed"
    assert changed["payload"] == {"reference": "b1", "sku": "SKU-1", "quantity": 4}
    published = stream_messages(redis, channels.events_stream)
    assert [m["type"] for m in published] == ["ProductAdded", "BatchAdded", "BatchQuantityChanged"]

    redis.publish(channels.command_channel("PlaceOrder"), json.dumps({"order_id": "o1"}))
    redis.publish(
        channels.command_channel("ShipOrder"),
        json.dumps({"order_id": "nope", "tracking_number": "T"}),
    )
    eventually(lambda: redis.xlen(channels.dead_letters_stream) == 2)
    errors = [fields[b"error"].decode() for _, fields in redis.xrange(channels.dead_letters_stream)]
    assert "not accepted" in errors[0]
    assert "OrderNotFound" in errors[1]
    redis.close()


def test_with_redis_down_commands_succeed_and_every_event_arrives_once_it_is_back(
    running_shop: WiredShop, private_redis: PrivateRedis, channel_prefix: str
):
    shop = running_shop(private_redis.url)
    channels = Channels(channel_prefix)
    add_product(shop)
    private_redis.stop()
    for n in range(20):
        started = time.monotonic()
        shop.bus.handle(commands.AddBatch(reference=f"b{n}", sku="SKU-1", quantity=n + 1))
        assert time.monotonic() - started < 1.0, "a command waited for Redis"
    private_redis.start()
    redis = private_redis.client()

    def delivered() -> list[dict[str, Any]]:
        return [
            m for m in stream_messages(redis, channels.events_stream) if m["type"] == "BatchAdded"
        ]

    eventually(lambda: len(delivered()) == 20, timeout=15)
    assert [m["payload"]["reference"] for m in delivered()] == [f"b{n}" for n in range(20)]
    # The consumer is back too.
    eventually(lambda: redis.pubsub_numpat() >= 1, timeout=15)
    redis.publish(
        channels.command_channel("ChangeBatchQuantity"), '{"reference": "b0", "quantity": 7}'
    )
    eventually(
        lambda: any(
            m["type"] == "BatchQuantityChanged"
            for m in stream_messages(redis, channels.events_stream)
        )
    )
    redis.close()


def test_an_add_batch_command_follows_the_http_field_rules(
    running_shop: WiredShop, redis_url: str, channel_prefix: str
):
    """Each is dead-lettered naming its field (the command class is the same as over HTTP)."""
    shop = running_shop(redis_url)
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    add_product(shop)
    refused = [
        {"reference": "b0", "sku": "SKU-1", "quantity": 0, "eta": None},
        {"reference": "a/b", "sku": "SKU-1", "quantity": 1, "eta": None},
        {"reference": "b2", "sku": "SKU-1", "quantity": 1, "eta": "20261201"},
    ]
    for payload in refused:
        redis.publish(channels.command_channel("AddBatch"), json.dumps({"payload": payload}))
    eventually(lambda: redis.xlen(channels.dead_letters_stream) == len(refused))
    errors = {
        json.loads(fields[b"message"])["payload"]["reference"]: fields[b"error"].decode()
        for _, fields in redis.xrange(channels.dead_letters_stream)
    }
    assert "quantity" in errors["b0"]
    assert "reference" in errors["a/b"]
    assert "eta" in errors["b2"]
    redis.close()


def test_commands_over_redis_are_read_as_strictly_as_http_bodies(
    running_shop: WiredShop, redis_url: str, channel_prefix: str
):
    """Unknown fields, duplicated keys, refused characters: dead letters saying why."""
    shop = running_shop(redis_url)
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    add_product(shop)
    envelope = '{"type": "AddBatch", "payload": {"sku": "SKU-1", %s}}'
    refused = {
        envelope
        % '"reference": "c1", "quantity": 1, "colour": "red"': "colour: is not a known field",
        envelope % '"reference": "c2", "quantity": -1, "quantity": 5': "duplicated key 'quantity'",
        envelope % '"reference": "c3?", "quantity": 1': "reference: The reference has",
        envelope % '"reference": "\\u202ec4", "quantity": 1': "reference: The reference has",
    }
    for raw in refused:
        redis.xadd(channels.commands_stream, {"message": raw})
    eventually(lambda: redis.xlen(channels.dead_letters_stream) == len(refused))
    errors = {
        fields[b"message"].decode(): fields[b"error"].decode()
        for _, fields in redis.xrange(channels.dead_letters_stream)
    }
    for raw, reason in refused.items():
        assert reason in errors[raw], (raw, errors[raw])
    stock = SqlReadModels(shop.engine).stock("SKU-1")
    assert stock is not None and stock["batches"] == []
    redis.close()
