"""The outbox relay against a real Redis: envelopes out on channels and stream, never lost."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import event, func, text, update

from seedwork.core import context
from seedwork.core.messages import Envelope
from seedwork.redis.channels import Channels
from seedwork.sqlalchemy.outbox_status import outbox_status
from seedwork.sqlalchemy.relay import OutboxRelay, PublishFailed
from seedwork.sqlalchemy.relay_postgresql import take_turn
from seedwork.sqlalchemy.tables import wake_channel
from tests.integration.redis.world import (
    AddStock,
    ChangeStock,
    World,
    closed_port,
    stream_messages,
    tables,
)
from tests.waiting import eventually


def subscribe(redis: Redis, *channels: str) -> Any:
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(*channels)
    eventually(lambda: pubsub.get_message(timeout=0.01) is None and pubsub.subscribed)
    return pubsub


def received(pubsub: Any, count: int, timeout: float = 5.0) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []

    def enough() -> bool:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            found.append((message["channel"].decode(), json.loads(message["data"])))
        return len(found) >= count

    eventually(enough, timeout)
    return found


@contextlib.contextmanager
def looping(relay: OutboxRelay) -> Iterator[None]:
    """The relay's loop in a thread for the block; it must stop at once when told to."""
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        relay.notify()
        thread.join(5)
    assert not thread.is_alive()


def test_events_go_out_on_their_channel_and_the_stream_with_their_envelope(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    pubsub = subscribe(redis, channels.event_channel("StockAdded"), "x")
    pubsub.psubscribe(f"{channels.prefix}.events.*")
    command = Envelope(
        message=AddStock(reference="s1", quantity=3), correlation_id="corr-1", actor="clerk-7"
    )
    world.bus.handle(command)
    world.bus.handle(ChangeStock(reference="s1", quantity=5))

    assert make_relay().drain() == 3  # StockAdded, StockChanged and the internal StockNoted

    [(channel, added)] = received(pubsub, 1)[:1]
    assert channel == f"{channels.prefix}.events.stock_added"
    [row] = [r for r in world.outbox() if r.type == "StockAdded"]
    assert added == {
        "message_id": row.message_id,
        "type": "StockAdded",
        "version": 1,
        "occurred_at": added["occurred_at"],
        "correlation_id": "corr-1",
        "causation_id": command.message_id,
        "actor": "clerk-7",
        "payload": {"reference": "s1", "quantity": 3},
    }
    assert row.actor == "clerk-7"  # kept with the event in the outbox, for audit
    assert [m["type"] for m in stream_messages(redis, channels.events_stream)] == [
        "StockAdded",
        "StockChanged",
    ]
    assert all(r.published_at is not None for r in world.outbox())


def test_internal_events_are_marked_relayed_without_going_out(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    world.bus.handle(AddStock(reference="s1", quantity=3))
    world.bus.handle(ChangeStock(reference="s1", quantity=5))
    make_relay().drain()
    types = [m["type"] for m in stream_messages(redis, channels.events_stream)]
    assert "StockNoted" not in types
    assert outbox_status(world.engine, tables.outbox).pending == 0


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_with_redis_unreachable_nothing_is_marked_sent_and_all_goes_out_later(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    for n in range(5):
        world.bus.handle(AddStock(reference=f"s{n}", quantity=n))
    unreachable = Redis(port=closed_port(), socket_connect_timeout=0.5)

    with pytest.raises(PublishFailed):
        make_relay(unreachable).relay_once()

    status = outbox_status(world.engine, tables.outbox)
    assert (status.pending, status.failed) == (5, 5)
    assert status.oldest_pending_age is not None
    [row, *_] = world.outbox()
    assert row.attempts == 1 and "ConnectionError" in row.last_error
    assert row.next_attempt_at is None  # the loop's backoff is the one schedule (relay.py)
    assert make_relay().drain() == 5
    published = stream_messages(redis, channels.events_stream)
    assert [m["payload"]["reference"] for m in published] == [f"s{n}" for n in range(5)]
    assert outbox_status(world.engine, tables.outbox).pending == 0


def test_a_running_relay_backs_off_and_delivers_once_redis_answers(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    world.bus.handle(AddStock(reference="s1", quantity=1))
    relay = make_relay(Redis(port=closed_port(), socket_connect_timeout=0.2), max_backoff=0.05)
    with looping(relay):
        eventually(lambda: world.outbox()[0].attempts >= 3)
    assert world.outbox()[0].published_at is None
    assert make_relay().drain() == 1


def test_a_notified_relay_publishes_at_once(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    relay = make_relay(poll_interval=30)
    with looping(relay):
        eventually(lambda: relay.rounds >= 1)  # drained what there was: now it waits 30 s
        world.bus.handle(AddStock(reference="s1", quantity=1))
        relay.notify()
        eventually(lambda: stream_messages(redis, channels.events_stream), timeout=2)


def test_a_listening_relay_is_woken_by_commits_of_other_processes(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    # The poll is 30 s: only the commit's NOTIFY can bring the relay round within seconds.
    relay = make_relay(poll_interval=30, listen=True)
    listening = text(
        "SELECT count(*) FROM pg_stat_activity WHERE query = :listen AND pid <> pg_backend_pid()"
    ).bindparams(listen=f'LISTEN "{wake_channel(tables.outbox)}"')

    def relay_listens() -> bool:
        with world.engine.connect() as connection:  # a new snapshot of pg_stat_activity
            return connection.execute(listening).scalar() == 1

    with looping(relay):
        eventually(relay_listens, timeout=5)
        # Past the drain that listening (every (re)connection) starts with: only the start and
        # wakes begin a round, so a second round means the listener's wake was served.
        eventually(lambda: relay.rounds >= 2, timeout=5)
        world.bus.handle(AddStock(reference="s1", quantity=1))
        started = time.monotonic()
        eventually(lambda: stream_messages(redis, channels.events_stream), timeout=5)
        assert time.monotonic() - started < 5


def test_a_relay_never_publishes_past_an_older_unsent_row_another_writer_holds(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    for n in range(3):
        world.bus.handle(AddStock(reference=f"s{n}", quantity=n))
    oldest = min(row.id for row in world.outbox())
    relay = make_relay()
    with world.engine.connect() as holder, holder.begin():
        # The recovery sweep marking the oldest row handled, say, while the relay claims.
        holder.execute(
            update(tables.outbox).where(tables.outbox.c.id == oldest).values(handled_at=func.now())
        )
        assert relay.relay_once() == 0
        assert relay.try_relay() is False  # so a committing thread wakes the relay loop
        assert stream_messages(redis, channels.events_stream) == []
    assert relay.drain() == 3
    published = [m["payload"]["reference"] for m in stream_messages(redis, channels.events_stream)]
    assert published == ["s0", "s1", "s2"]


def test_two_relays_at_once_publish_every_event_exactly_once(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    for n in range(300):
        world.bus.handle(AddStock(reference=f"s{n}", quantity=n))
    relays = [make_relay(batch_size=7) for _ in range(2)]
    threads = [threading.Thread(target=relay.drain) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    ids = [m["message_id"] for m in stream_messages(redis, channels.events_stream)]
    assert len(ids) == 300
    assert len(set(ids)) == 300
    assert outbox_status(world.engine, tables.outbox).pending == 0


def test_try_relay_publishes_at_once_and_never_waits_for_another_relays_turn(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    world.bus.handle(AddStock(reference="s1", quantity=1))
    with world.engine.begin() as connection:  # another relay holds the turn
        connection.execute(take_turn(tables.outbox, wait=True))
        assert make_relay().try_relay() is False
        assert stream_messages(redis, channels.events_stream) == []
    world.bus.handle(AddStock(reference="s2", quantity=2))

    assert make_relay().try_relay() is True
    published = stream_messages(redis, channels.events_stream)
    assert [m["payload"]["reference"] for m in published] == ["s1", "s2"]
    assert outbox_status(world.engine, tables.outbox).pending == 0


def test_publish_or_wake_wakes_the_loop_when_it_cannot_publish_itself(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    # What ``shop run`` does after each commit (route 2 of seedwork.sqlalchemy.relay).
    relay = make_relay(poll_interval=30)
    with looping(relay):
        eventually(lambda: relay.rounds >= 1)  # drained what there was: now it waits 30 s
        with world.engine.begin() as connection:  # another relay holds the turn
            connection.execute(take_turn(tables.outbox, wait=True))
            world.bus.handle(AddStock(reference="s1", quantity=1))
            relay.publish_or_wake()  # cannot have the turn: wakes the loop, which waits for it
            assert stream_messages(redis, channels.events_stream) == []
        eventually(lambda: stream_messages(redis, channels.events_stream), timeout=2)


def test_publish_or_wake_leaves_a_backlogs_events_to_the_loop(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    # A consumer lane with messages waiting says so; their events go out from the loop's
    # thread, in batches, while the lane goes on.
    relay = make_relay(poll_interval=30)
    world.bus.handle(AddStock(reference="s1", quantity=1))
    with context.following(True):
        relay.publish_or_wake()  # more follow: not published on this thread
    assert stream_messages(redis, channels.events_stream) == []
    with looping(relay):
        eventually(lambda: stream_messages(redis, channels.events_stream), timeout=2)
    world.bus.handle(AddStock(reference="s2", quantity=2))
    make_relay(poll_interval=30).publish_or_wake()  # nothing follows: published here and now
    published = stream_messages(redis, channels.events_stream)
    assert [m["payload"]["reference"] for m in published] == ["s1", "s2"]


def test_a_backlogs_commits_are_gathered_into_one_round_of_the_loop(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    relay = make_relay(poll_interval=30, gather=0.5)
    with looping(relay):
        eventually(lambda: relay.rounds >= 1)  # drained what there was: now it waits 30 s
        rounds = relay.rounds
        for n in range(3):  # a lane working through a backlog: each commit wakes the loop
            world.bus.handle(AddStock(reference=f"s{n}", quantity=1))
            with context.following(True):
                relay.publish_or_wake()
        eventually(lambda: len(stream_messages(redis, channels.events_stream)) == 3, timeout=3)
        time.sleep(0.2)  # a second round, if the loop were to start one, starts now
        assert relay.rounds == rounds + 1
    published = stream_messages(redis, channels.events_stream)
    assert [m["payload"]["reference"] for m in published] == ["s0", "s1", "s2"]


def test_the_relay_marks_rows_sent_without_waiting_for_the_wal_flush(
    world: World, make_relay: Callable[..., OutboxRelay], redis: Redis, channels: Channels
):
    # A mark lost to a database crash only sends its events again (at least once, CONTRACT §3):
    # the relay's commits need no fsync of their own.
    modes: list[str] = []

    def record(connection: Any) -> None:
        modes.append(connection.exec_driver_sql("SHOW synchronous_commit").scalar())

    world.bus.handle(AddStock(reference="s1", quantity=1))
    event.listen(world.engine, "commit", record)
    try:
        assert make_relay().try_relay() is True
    finally:
        event.remove(world.engine, "commit", record)
    assert modes == ["off"]
    assert [m["payload"]["reference"] for m in stream_messages(redis, channels.events_stream)] == [
        "s1"
    ]
    with world.engine.connect() as connection:  # the relay's transaction alone was relaxed
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
