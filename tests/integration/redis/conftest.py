"""Fixtures of the Redis bridge tests: a real Redis, names under the test's prefix, a world."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import Engine

from seedwork.redis.channel_listener import ChannelListener
from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.dead_letters import DeadLetterStream
from seedwork.redis.publisher import RedisPublisher
from seedwork.redis.reader import CommandReader
from seedwork.redis.stream_listener import StreamListener
from seedwork.sqlalchemy.inbox import SqlInbox
from seedwork.sqlalchemy.relay import OutboxRelay
from tests.integration.redis.private_server import PrivateRedis
from tests.integration.redis.world import (
    ACCEPTED,
    FAILURES,
    INTEGRATION,
    World,
    build_world,
    tables,
)


@pytest.fixture(params=["postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """PostgreSQL by default here (claims with SKIP LOCKED); tests opt into SQLite explicitly."""
    if request.param == "sqlite":
        path = request.getfixturevalue("tmp_path")
        return f"sqlite:///{path / 'bridge.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def channels(channel_prefix: str) -> Channels:
    return Channels(channel_prefix)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def make_relay(
    world: World, redis: Redis, channels: Channels
) -> Iterator[Callable[..., OutboxRelay]]:
    """Relays on the world's outbox; each gives its own connection back when the test ends."""
    made: list[OutboxRelay] = []

    def make(client: Redis | None = None, **options: Any) -> OutboxRelay:
        publisher = RedisPublisher(client or redis, channels.events_stream)
        relay = OutboxRelay(
            world.engine, tables.outbox, publisher, channels.event_channel, INTEGRATION, **options
        )
        made.append(relay)
        return relay

    yield make
    for relay in made:
        relay.close()


@pytest.fixture
def make_consumer(world: World, redis: Redis, channels: Channels) -> Callable[..., CommandConsumer]:
    def make() -> CommandConsumer:
        reader = CommandReader(world.serializer, channels, ACCEPTED)
        dead_letters = DeadLetterStream(redis, channels.dead_letters_stream)
        inbox = SqlInbox(world.engine, tables.inbox)
        return CommandConsumer(
            world.bus, reader, dead_letters, failures=FAILURES, inbox=inbox, max_backoff=0.05
        )

    return make


class Running:
    """Workers running in threads until the test ends."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self, target: Callable[[threading.Event], None]) -> None:
        thread = threading.Thread(target=target, args=(self.stop,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)
            assert not thread.is_alive(), "a worker did not stop"


@pytest.fixture
def running() -> Iterator[Running]:
    workers = Running()
    yield workers
    workers.close()


@pytest.fixture
def listeners(
    redis: Redis, channels: Channels
) -> Callable[[CommandConsumer], tuple[ChannelListener, StreamListener]]:
    def make(consumer: CommandConsumer, **options: Any) -> tuple[ChannelListener, StreamListener]:
        return (
            ChannelListener(redis, channels, consumer, poll=0.05),
            StreamListener(redis, channels, consumer, block=0.05, **options),
        )

    return make


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, that it may stop and restart."""
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()
