"""The delivery limit catches entries that take the consumer down, never good ones kept pending
by an outage, and never one that was applied: the inbox and the database decide."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import ResponseError

from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.dead_letters import DeadLetterStream
from seedwork.redis.reader import CommandReader
from seedwork.sqlalchemy.inbox import SqlInbox
from shop.adapters.database import create_database_engine
from tests.integration.private_postgres import PrivatePostgres
from tests.integration.redis.conftest import Running
from tests.integration.redis.world import ACCEPTED, FAILURES, AddStock, World, build_world, tables
from tests.waiting import eventually

Listeners = Callable[..., Any]
CHANGE = '{"type": "ChangeStock", "payload": {"reference": "s1", "quantity": 5}}'


def delivered_often(redis: Redis, channels: Channels, times: int) -> bytes:
    """An entry that ``times`` consumers took and never acknowledged."""
    with contextlib.suppress(ResponseError):  # the group exists
        redis.xgroup_create(channels.commands_stream, "shop", id="0", mkstream=True)
    entry_id: bytes = redis.xadd(channels.commands_stream, {"message": CHANGE})  # type: ignore[assignment]
    redis.xreadgroup("shop", "crashed-0", {channels.commands_stream: ">"})
    for n in range(1, times):
        redis.xclaim(channels.commands_stream, "shop", f"crashed-{n}", 0, [entry_id])
    return entry_id


def test_an_entry_over_the_limit_that_was_applied_is_acknowledged_not_dead_lettered(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    world.bus.handle(AddStock(reference="s1", quantity=0))
    entry_id = delivered_often(redis, channels, 5)
    # The last consumer committed it, then died before XACK.
    assert (
        make_consumer().apply(CHANGE, channels.commands_stream, stream_entry=entry_id.decode()).ok
    )
    survivor = make_consumer()
    _, listener = listeners(survivor, name="survivor", claim_idle=0.05, claim_interval=0.05)
    running.start(listener.run)
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)
    assert redis.xlen(channels.dead_letters_stream) == 0
    assert world.stock("s1").changes == 1


def taken_by(redis: Redis, channels: Channels, consumer: bytes) -> bool:
    pending = redis.xpending_range(channels.commands_stream, "shop", "-", "+", 10)
    return bool(pending) and pending[0]["consumer"] == consumer


def dead_letters(redis: Redis, channels: Channels) -> int:
    return int(redis.xlen(channels.dead_letters_stream))


@pytest.fixture
def outage_world() -> Iterator[tuple[PrivatePostgres, World]]:
    server = PrivatePostgres()
    engine = None
    try:
        server.init().start()
        engine = create_database_engine(server.url)
        yield server, build_world(engine)
    finally:
        if engine is not None:
            engine.dispose()
        server.destroy()


@pytest.mark.slow
def test_an_entry_over_the_limit_during_an_outage_waits_for_the_database_and_is_applied(
    outage_world: tuple[PrivatePostgres, World],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    server, world = outage_world
    world.bus.handle(AddStock(reference="s1", quantity=0))
    delivered_often(redis, channels, 7)  # restarted again and again during the outage
    server.stop()
    reader = CommandReader(world.serializer, channels, ACCEPTED)
    consumer = CommandConsumer(
        world.bus,
        reader,
        DeadLetterStream(redis, channels.dead_letters_stream),
        failures=FAILURES,
        inbox=SqlInbox(world.engine, tables.inbox),
        max_backoff=0.1,
    )
    _, listener = listeners(consumer, name="survivor", claim_idle=0.05, claim_interval=0.05)
    running.start(listener.run)
    eventually(lambda: taken_by(redis, channels, b"survivor") or dead_letters(redis, channels))
    time.sleep(1.0)  # the outage goes on
    assert dead_letters(redis, channels) == 0
    server.start()
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)
    assert redis.xlen(channels.dead_letters_stream) == 0
    assert world.stock("s1").changes == 1


class LeavingSink:
    """A sink stopped during an outage: it leaves every entry pending (``done(False)``)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop

    def submit(self, raw: Any, channel: str, **context: Any) -> None:
        self.stop.set()
        context["done"](False)

    def reject(self, raw: Any, error: str, channel: str) -> None:
        raise AssertionError(f"dead-lettered: {error}")

    def suspect(self, raw: Any, channel: str, stream_entry: str) -> bool:
        return True


def test_an_entry_left_pending_at_a_stop_does_not_count_toward_the_limit(
    redis: Redis, channels: Channels, listeners: Listeners
):
    delivered_often(redis, channels, 4)
    for restart in range(8):  # far more stops during an outage than the delivery limit
        stop = threading.Event()
        _, listener = listeners(LeavingSink(stop), name=f"restart-{restart}", claim_idle=0)
        listener.reclaim(stop)
        [pending] = redis.xpending_range(channels.commands_stream, "shop", "-", "+", 10)
        assert pending["times_delivered"] == 1
        assert pending["consumer"] == f"restart-{restart}".encode()
    assert redis.xlen(channels.dead_letters_stream) == 0
