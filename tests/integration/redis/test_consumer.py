"""The command consumer against a real Redis and database: in on channels and stream, once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis

from seedwork.core.messages import new_id
from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.stream_listener import StreamListener
from tests.integration.redis.conftest import Running
from tests.integration.redis.world import AddStock, World
from tests.waiting import eventually

Listeners = Callable[..., Any]


@pytest.fixture
def consumer(
    make_consumer: Callable[..., CommandConsumer], listeners: Listeners, running: Running
) -> CommandConsumer:
    """A consumer listening on the channels and the stream."""
    consumer = make_consumer()
    channel_listener, stream_listener = listeners(consumer)
    running.start(channel_listener.run)
    running.start(stream_listener.run)
    eventually(lambda: channel_listener.subscribed.is_set() and stream_listener.ready.is_set())
    return consumer


def envelope(type_: str | None, payload: dict[str, Any], **extra: Any) -> str:
    data: dict[str, Any] = {"payload": payload, **extra}
    if type_ is not None:
        data["type"] = type_
    return json.dumps(data)


def test_commands_in_on_channels_change_state_in_every_accepted_shape(
    world: World, consumer: CommandConsumer, redis: Redis, channels: Channels
):
    redis.publish(
        channels.command_channel("AddStock"),
        envelope("AddStock", {"reference": "full", "quantity": 1}, message_id=new_id()),
    )
    redis.publish(
        channels.command_channel("AddStock"),
        envelope(None, {"reference": "untyped", "quantity": 2}),
    )
    redis.publish(
        channels.command_channel("AddStock"), json.dumps({"reference": "bare", "quantity": 3})
    )
    eventually(lambda: all(world.stock(r) for r in ("full", "untyped", "bare")))
    assert [world.stock(r).quantity for r in ("full", "untyped", "bare")] == [1, 2, 3]
    assert consumer.dead_letters.count() == 0


def test_commands_in_on_the_stream_change_state_and_are_acknowledged(
    world: World, consumer: CommandConsumer, redis: Redis, channels: Channels
):
    redis.xadd(
        channels.commands_stream,
        {"message": envelope("AddStock", {"reference": "s1", "quantity": 4})},
    )
    redis.xadd(
        channels.commands_stream,
        {"message": envelope("ChangeStock", {"reference": "s1", "quantity": 9})},
    )
    eventually(lambda: (stock := world.stock("s1")) and stock.quantity == 9)
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)


@pytest.mark.parametrize("source", ["channel", "stream"])
def test_the_same_message_id_three_times_is_applied_once(
    world: World, consumer: CommandConsumer, redis: Redis, channels: Channels, source: str
):
    world.bus.handle(AddStock(reference="s1", quantity=0))
    message = envelope("ChangeStock", {"reference": "s1", "quantity": 7}, message_id=new_id())
    for _ in range(3):
        if source == "channel":
            redis.publish(channels.command_channel("ChangeStock"), message)
        else:
            redis.xadd(channels.commands_stream, {"message": message})
    eventually(lambda: consumer.stats.processed == 3)
    stock = world.stock("s1")
    assert stock is not None and stock.changes == 1 and stock.reactions == 1
    assert len([row for row in world.outbox() if row.type == "StockChanged"]) == 1


POISON: list[tuple[str, str, str]] = [
    ("stock_added", "not json at all", "not valid JSON"),
    ("add_stock", "{", "not valid JSON"),
    ("add_stock", "", "not valid JSON"),
    ("add_stock", "[1, 2]", "must be a JSON object"),
    ("add_stock", '"a string"', "must be a JSON object"),
    ("add_stock", "42", "must be a JSON object"),
    ("add_stock", "null", "must be a JSON object"),
    ("frobnicate", '{"reference": "x"}', "'Frobnicate' is not accepted"),
    ("remove_stock", '{"reference": "s1"}', "'RemoveStock' is not accepted"),
    ("add_stock", '{"type": "ChangeStock", "payload": {}}', "does not match channel"),
    ("add_stock", '{"type": 5, "payload": {}}', "type must be a string"),
    ("add_stock", '{"reference": "x"}', "quantity: is required"),
    ("add_stock", '{"reference": "x", "quantity": "many"}', "quantity: must be an integer"),
    ("add_stock", '{"reference": 7, "quantity": 1}', "reference: must be a string"),
    ("add_stock", '{"reference": "x", "quantity": -1}', "quantity must be >= 0"),
    ("add_stock", '{"type": "AddStock", "payload": "no"}', "must be a JSON object"),
    ("add_stock", '{"payload": {"reference": "x", "quantity": 1}, "version": 9}', "version 9"),
    ("add_stock", '{"payload": {"reference": "x", "quantity": 1}, "message_id": 3}', "message_id"),
    ("add_stock", '{"reference": "s1", "quantity": 1}', "DuplicateStock"),
    ("change_stock", '{"reference": "nowhere", "quantity": 1}', "UnknownStock"),
    ("add_stock", "[" * 60_000, "nested too deeply"),
    (
        "add_stock",
        '{"occurred_at": "yesterday", "payload": {"reference": "x", "quantity": 1}}',
        "occurred_at",
    ),
    (
        "add_stock",
        '{"occurred_at": 1, "payload": {"reference": "x", "quantity": 1}}',
        "occurred_at",
    ),
]


def test_two_dozen_kinds_of_poison_are_dead_lettered_with_a_reason_and_the_consumer_carries_on(
    world: World, consumer: CommandConsumer, redis: Redis, channels: Channels
):
    world.bus.handle(AddStock(reference="s1", quantity=0))
    for name, raw, _ in POISON:
        redis.publish(f"{channels.prefix}.commands.{name}", raw)
    redis.xadd(channels.commands_stream, {"message": '{"reference": "x", "quantity": 1}'})
    redis.xadd(channels.commands_stream, {"other": "field"})
    redis.xadd(channels.commands_stream, {"message": "[" * 60_000})
    eventually(lambda: consumer.dead_letters.count() == len(POISON) + 3)

    letters = consumer.dead_letters.list(100)
    from_channels = [letter for letter in letters if letter.channel != channels.commands_stream]
    for letter, (name, raw, reason) in zip(from_channels, POISON, strict=True):
        assert letter.message == raw
        assert letter.channel == f"{channels.prefix}.commands.{name}"
        assert reason in letter.error, (raw, letter.error)
        assert letter.failed_at
    untyped, fieldless, deep = [
        letter for letter in letters if letter.channel == channels.commands_stream
    ]
    assert "message has no type" in untyped.error
    assert "no 'message' field" in fieldless.error
    assert "nested too deeply" in deep.error
    assert consumer.stats.dead_lettered == len(POISON) + 3

    redis.publish(channels.command_channel("AddStock"), '{"reference": "after", "quantity": 1}')
    eventually(lambda: world.stock("after"))
    assert consumer.stats.processed == 1


def test_a_replayed_dead_letter_is_applied_and_removed_and_a_failing_one_says_why(
    world: World, consumer: CommandConsumer, redis: Redis, channels: Channels
):
    redis.publish(channels.command_channel("ChangeStock"), '{"reference": "s1", "quantity": 4}')
    redis.publish(channels.command_channel("AddStock"), "not json")
    eventually(lambda: consumer.dead_letters.count() == 2)
    fixable, hopeless = consumer.dead_letters.list()
    world.bus.handle(AddStock(reference="s1", quantity=0))

    assert consumer.apply(fixable.message, fixable.channel).ok
    failed = consumer.apply(hopeless.message, hopeless.channel)
    assert not failed.ok and "not valid JSON" in failed.error
    assert world.stock("s1").quantity == 4


def test_a_message_left_pending_by_a_dead_consumer_is_reclaimed_and_applied_once(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    world.bus.handle(AddStock(reference="s1", quantity=0))
    doomed = make_consumer()
    _, dying = listeners(doomed, name="dying")
    dying.ensure_group()
    redis.xadd(
        channels.commands_stream,
        {"message": '{"type": "ChangeStock", "payload": {"reference": "s1", "quantity": 5}}'},
    )
    [[_, [(entry_id, fields)]]] = redis.xreadgroup("shop", "dying", {channels.commands_stream: ">"})
    # It committed the command, then died before XACK.
    assert doomed.apply(
        fields[b"message"], channels.commands_stream, stream_entry=entry_id.decode()
    ).ok
    assert world.stock("s1").changes == 1

    survivor = make_consumer()
    _, stream_listener = listeners(survivor, name="survivor", claim_idle=0.1, claim_interval=0.05)
    running.start(stream_listener.run)
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)
    assert survivor.stats.processed == 1
    stock = world.stock("s1")
    assert stock.changes == 1 and stock.reactions == 1


def test_an_entry_delivered_too_often_without_an_acknowledgement_is_dead_lettered(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    # Each consumer that took this entry died handling it (as if it crashed the process).
    world.bus.handle(AddStock(reference="s1", quantity=0))
    _, first = listeners(make_consumer(), name="crashed-0")
    first.ensure_group()
    change = '{"type": "ChangeStock", "payload": {"reference": "s1", "quantity": 5}}'
    entry_id = redis.xadd(channels.commands_stream, {"message": change})
    redis.xreadgroup("shop", "crashed-0", {channels.commands_stream: ">"})
    for n in range(1, 5):
        redis.xclaim(channels.commands_stream, "shop", f"crashed-{n}", 0, [entry_id])
    survivor = make_consumer()
    _, stream_listener = listeners(
        survivor, name="survivor", claim_idle=0.05, claim_interval=0.05, max_deliveries=5
    )
    running.start(stream_listener.run)
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)
    [(_, fields)] = redis.xrange(channels.dead_letters_stream)
    assert fields[b"message"].decode() == change
    assert fields[b"error"].decode().startswith("DeliveryLimit: delivered 6 times")
    assert world.stock("s1").changes == 0
    # The consumer carries on: the same command sent again is applied.
    redis.xadd(channels.commands_stream, {"message": change})
    eventually(lambda: world.stock("s1").changes == 1)
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)


class HoldingSink:
    """A consumer whose lanes are busy: it takes entries and settles none of them yet."""

    def __init__(self) -> None:
        self.held: list[str] = []
        self.rejected: list[str] = []

    def submit(self, raw: Any, channel: str, **context: Any) -> None:
        self.held.append(context["stream_entry"])

    def reject(self, raw: Any, error: str, channel: str) -> None:
        self.rejected.append(error)


def test_entries_a_live_consumer_still_holds_are_not_counted_as_deliveries(
    redis: Redis, channels: Channels
):
    sink = HoldingSink()
    listener = StreamListener(redis, channels, sink, name="busy", claim_idle=0, block=0.05)
    listener.ensure_group()
    entry_id = redis.xadd(channels.commands_stream, {"message": "{}"}).decode()
    stop = threading.Event()
    assert listener.read_new(stop) == 1
    for _ in range(8):  # far more reclaim rounds than the delivery limit
        listener.reclaim(stop)
    [pending] = redis.xpending_range(channels.commands_stream, "shop", min="-", max="+", count=10)
    assert pending["times_delivered"] == 1
    assert sink.held == [entry_id] and sink.rejected == []


def test_one_reclaim_takes_over_every_abandoned_entry_however_many_and_only_once(
    redis: Redis, channels: Channels
):
    sink = HoldingSink()
    listener = StreamListener(redis, channels, sink, name="heir", claim_idle=0.05, batch=50)
    listener.ensure_group()
    for n in range(600):  # more than XAUTOCLAIM would scan in one call (10 x its count)
        redis.xadd(channels.commands_stream, {"message": json.dumps({"n": n})})
    redis.xreadgroup("shop", "dead", {channels.commands_stream: ">"}, count=600)
    time.sleep(0.1)
    stop = threading.Event()
    assert listener.reclaim(stop) == 600
    time.sleep(0.1)  # what the heir holds is idle again, yet still its own
    assert listener.reclaim(stop) == 0
    pending = redis.xpending_range(channels.commands_stream, "shop", min="-", max="+", count=700)
    assert {row["consumer"] for row in pending} == {b"heir"}
    assert {row["times_delivered"] for row in pending} == {2}
    assert len(sink.held) == 600 and sink.rejected == []
