"""Several workers at once, and reactions recovered after a crash between commit and dispatch."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from redis import Redis
from sqlalchemy import Engine, event

from seedwork.core.messages import new_id
from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.sqlalchemy.recovery import RecoverySweep
from seedwork.sqlalchemy.relay import OutboxRelay
from tests.integration.redis.conftest import Running
from tests.integration.redis.world import (
    AddStock,
    ChangeStock,
    World,
    change_stock,
    stream_messages,
    tables,
)
from tests.waiting import eventually


def test_two_relays_and_two_consumers_lose_nothing_and_apply_nothing_twice(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    make_relay: Callable[..., OutboxRelay],
    listeners: Callable[..., Any],
    running: Running,
    redis: Redis,
    channels: Channels,
):
    references = [f"s{n}" for n in range(40)]
    for reference in references:
        world.bus.handle(AddStock(reference=reference, quantity=0))
    consumers = [make_consumer() for _ in range(2)]
    for n, consumer in enumerate(consumers):
        _, stream_listener = listeners(consumer, name=f"c{n}", batch=5)
        running.start(stream_listener.run)
    for _ in range(2):
        relay = make_relay(batch_size=10, poll_interval=0.02)
        running.start(relay.run)
    commands = [
        json.dumps(
            {
                "message_id": new_id(),
                "type": "ChangeStock",
                "payload": {"reference": reference, "quantity": quantity},
            }
        )
        for quantity in range(1, 6)
        for reference in references
    ]
    for command in commands + commands[:50]:  # fifty sent twice
        redis.xadd(channels.commands_stream, {"message": command})

    eventually(lambda: sum(c.stats.processed for c in consumers) == 250, timeout=30)
    expected_events = 40 + 200  # StockAdded for each, StockChanged for each distinct command
    eventually(lambda: len(stream_messages(redis, channels.events_stream)) >= expected_events)
    published = stream_messages(redis, channels.events_stream)
    ids = [m["message_id"] for m in published]
    assert len(ids) == len(set(ids)) == expected_events
    assert all(c.stats.processed > 0 for c in consumers)
    for reference in references:
        stock = world.stock(reference)
        assert stock is not None and (stock.changes, stock.reactions) == (5, 5)
    assert redis.xpending(channels.commands_stream, "shop")["pending"] == 0


def test_events_committed_but_never_dispatched_are_recovered_once(world: World, engine: Engine):
    world.bus.handle(AddStock(reference="s1", quantity=0))
    for quantity in (1, 2, 3):
        # A process that committed and died before dispatching: the handler without the bus.
        change_stock(ChangeStock(reference="s1", quantity=quantity), world.new_uow())
    assert world.stock("s1").reactions == 0
    sweep = RecoverySweep(
        engine, tables.outbox, world.serializer, world.bus, grace=60, inbox=tables.inbox
    )
    assert sweep.sweep() == 0  # too young: probably being handled right now

    assert sweep.sweep(grace=0) == 3
    assert world.stock("s1").reactions == 3
    assert sweep.sweep(grace=0) == 0
    world.bus.dispatch_events(
        world.serializer.loads(row.envelope) for row in world.outbox() if row.type == "StockChanged"
    )
    assert world.stock("s1").reactions == 3
    assert all(row.handled_at is not None for row in world.outbox())


def test_the_sweep_reads_only_the_envelopes_of_events_a_handler_missed(
    world: World, engine: Engine, caplog: Any
):
    world.bus.handle(AddStock(reference="s1", quantity=0))
    world.bus.handle(ChangeStock(reference="s1", quantity=1))  # its reaction ran
    change_stock(ChangeStock(reference="s1", quantity=2), world.new_uow())  # its did not
    handled, missed = (row for row in world.outbox() if row.type == "StockChanged")
    with engine.begin() as connection:  # neither envelope can be read now
        connection.execute(
            tables.outbox.update()
            .where(tables.outbox.c.id.in_([handled.id, missed.id]))
            .values(envelope="{not json")
        )
    sweep = RecoverySweep(engine, tables.outbox, world.serializer, world.bus, inbox=tables.inbox)

    with caplog.at_level("ERROR", logger="seedwork.sqlalchemy.recovery"):
        assert sweep.sweep(grace=0) == 0

    # Only the missed event's envelope was read (and could not be): reported, not dispatched.
    reported = [r.getMessage() for r in caplog.records if "cannot read event" in r.getMessage()]
    assert len(reported) == 1 and missed.message_id in reported[0]
    assert all(row.handled_at is not None for row in world.outbox())
    assert world.stock("s1").reactions == 1


def test_a_sweep_that_caught_up_leaves_what_commits_meanwhile_to_its_next_round(
    world: World, engine: Engine
):
    # Under a steady stream of commits a sweep that went on while it found anything would
    # chase the grace period's edge, one small batch after another, for as long as the stream
    # lasted (it did: a few events a batch, a hundred batches a second, beside the requests).
    world.bus.handle(AddStock(reference="s1", quantity=0))
    for quantity in (1, 2, 3):
        change_stock(ChangeStock(reference="s1", quantity=quantity), world.new_uow())
    sweep = RecoverySweep(
        engine, tables.outbox, world.serializer, world.bus, batch_size=10, inbox=tables.inbox
    )
    meanwhile = iter(range(10, 30))  # commits that land while the sweep reads the outbox

    def commit_meanwhile(_: Any, __: Any, statement: str, *___: Any) -> None:
        if statement.lstrip().startswith("SELECT outbox.id"):
            quantity = next(meanwhile, None)
            if quantity is not None:
                change_stock(ChangeStock(reference="s1", quantity=quantity), world.new_uow())

    event.listen(engine, "after_cursor_execute", commit_meanwhile)
    try:
        dispatched = sweep.sweep(grace=0)
    finally:
        event.remove(engine, "after_cursor_execute", commit_meanwhile)

    # Full batches go on (a backlog is drained); the first short one ends the round, and what
    # committed after it waits for the next round.
    assert dispatched < 10
    left = [row for row in world.outbox() if row.handled_at is None]
    assert left and sweep.sweep(grace=0) > 0
