"""The commands stream: a crashing entry costs only itself, and only acknowledged entries go."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

from redis import Redis

from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.stream_listener import StreamListener
from tests.integration.redis.world import World


class Crash(BaseException):
    """The process dies while handling this entry (an abort, an out-of-memory kill)."""


class CrashingOn:
    """A consumer process that dies whenever it handles one particular message."""

    def __init__(self, consumer: CommandConsumer, poison: bytes) -> None:
        self.consumer = consumer
        self.poison = poison

    def submit(self, raw: Any, channel: Any, **context: Any) -> None:
        if raw == self.poison:
            raise Crash()
        self.consumer.submit(raw, channel, **context)

    def reject(self, raw: Any, error: str, channel: Any) -> None:
        self.consumer.reject(raw, error, channel)

    def suspect(self, raw: Any, channel: Any, stream_entry: str) -> bool:
        return self.consumer.suspect(raw, channel, stream_entry)


def add(reference: str) -> str:
    return json.dumps({"type": "AddStock", "payload": {"reference": reference, "quantity": 1}})


def test_an_entry_that_crashes_its_consumer_costs_only_itself(
    world: World, make_consumer: Callable[..., CommandConsumer], redis: Redis, channels: Channels
):
    poison = add("poison").encode()
    innocent = [f"i{n}" for n in range(15)]
    redis.xgroup_create(channels.commands_stream, "shop", id="0", mkstream=True)
    redis.xadd(channels.commands_stream, {"message": poison})
    for reference in innocent:
        redis.xadd(channels.commands_stream, {"message": add(reference)})
    consumer = make_consumer()
    stop = threading.Event()

    def process(number: int) -> StreamListener:
        sink = CrashingOn(consumer, poison)
        return StreamListener(redis, channels, sink, name=f"process-{number}", claim_idle=0)

    with contextlib.suppress(Crash):  # the first process reads all 16 and dies on the first
        process(0).read_new(stop)
    restarts = 0
    while redis.xpending(channels.commands_stream, "shop")["pending"] and restarts < 20:
        restarts += 1
        with contextlib.suppress(Crash):
            process(restarts).reclaim(stop)

    letters = consumer.dead_letters.list(100)
    assert [(letter.message, letter.error.split(":")[0]) for letter in letters] == [
        (poison.decode(), "DeliveryLimit")
    ]
    assert all(world.stock(reference) for reference in innocent)
    assert world.stock("poison") is None
    # Read once, taken over and crashing four times, the fifth time a dead letter.
    assert restarts == 5


class Settling:
    """A sink that dead-letters everything at once (settled, so acknowledged)."""

    def submit(self, raw: Any, channel: Any, **context: Any) -> None:
        context["done"](True)

    def reject(self, raw: Any, error: str, channel: Any) -> None:
        raise AssertionError("nothing here is refused")


def test_the_commands_stream_is_trimmed_of_acknowledged_entries_only(
    redis: Redis, channels: Channels
):
    stream = channels.commands_stream
    listener = StreamListener(redis, channels, Settling(), name="live", claim_idle=0, keep=5)
    listener.ensure_group()
    ids = [redis.xadd(stream, {"message": json.dumps({"n": n})}) for n in range(30)]
    redis.xreadgroup("shop", "dead", {stream: ">"}, count=10)  # 0-9: pending, never acknowledged
    stop = threading.Event()
    assert listener.read_new(stop) == 20  # 10-29: acknowledged

    def kept() -> list[bytes]:
        return [entry_id for entry_id, _ in redis.xrange(stream)]

    assert listener.trim() == 0  # the oldest entry is still pending: nothing before it goes
    assert kept() == ids
    assert listener.reclaim(stop) == 10  # 0-9 now acknowledged too
    redis.xgroup_create(stream, "late", id=ids[14])  # another group, that read only 0-14
    assert listener.trim() == 15
    assert kept() == ids[15:]  # 15-29: not read by "late" yet
    redis.xreadgroup("late", "reader", {stream: ">"}, count=100)
    assert listener.trim() == 0  # read, but still pending in "late"
    redis.xack(stream, "late", *ids[15:25])
    assert listener.trim() == 10
    assert kept() == ids[25:]  # down to keep=5, all acknowledged
    redis.xack(stream, "late", *ids[25:])
    assert listener.trim() == 0 and kept() == ids[25:]  # never below keep
