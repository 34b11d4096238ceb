"""The consumer's lanes: in parallel, in order per aggregate, once, acknowledged after commit."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis import Redis

from seedwork.core import context
from seedwork.core.messages import Envelope, new_id
from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.dead_letters import DeadLetterStream
from seedwork.redis.lanes import Lanes, key_fields
from seedwork.redis.outcomes import Outcome
from seedwork.redis.reader import CommandReader
from tests.integration.redis.conftest import Running
from tests.integration.redis.world import ACCEPTED, FAILURES, AddStock, World
from tests.waiting import eventually

Listeners = Callable[..., Any]


def change(reference: str, quantity: int, message_id: str | None = None) -> str:
    payload = {"reference": reference, "quantity": quantity}
    return json.dumps(
        {"message_id": message_id or new_id(), "type": "ChangeStock", "payload": payload}
    )


class Gated(CommandConsumer):
    """A consumer whose commands on one reference wait at a gate before they are applied."""

    held = "held"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def run(self, envelope: Envelope, stop: threading.Event | None = None) -> Outcome:
        if getattr(envelope.message, "reference", None) == self.held:
            self.waiting.set()
            self.gate.wait(10)
        return super().run(envelope, stop)


def gated(world: World, redis: Redis, channels: Channels) -> Gated:
    reader = CommandReader(world.serializer, channels, ACCEPTED)
    dead_letters = DeadLetterStream(redis, channels.dead_letters_stream)
    return Gated(world.bus, reader, dead_letters, failures=FAILURES, max_backoff=0.05)


@pytest.fixture
def make_lanes(running: Running) -> Iterator[Callable[..., Lanes]]:
    made: list[Lanes] = []

    def make(consumer: CommandConsumer, workers: int = 4) -> Lanes:
        lanes = Lanes(consumer, workers=workers, depth=8, key=key_fields("reference"))
        made.append(lanes.start(running.stop))
        return lanes

    yield make
    running.stop.set()
    for lanes in made:
        lanes.close(timeout=10)


def listen(listeners: Listeners, lanes: Lanes, running: Running, **options: Any) -> Any:
    channel_listener, stream_listener = listeners(lanes, **options)
    running.start(channel_listener.run)
    running.start(stream_listener.run)
    eventually(lambda: channel_listener.subscribed.is_set() and stream_listener.ready.is_set())
    return stream_listener


def changes_in_commit_order(world: World) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for row in world.outbox():
        if row.type == "StockChanged":
            payload = json.loads(row.envelope)["payload"]
            found.setdefault(payload["reference"], []).append(payload["quantity"])
    return found


def test_commands_on_one_aggregate_are_applied_in_order_while_lanes_run_side_by_side(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    make_lanes: Callable[..., Lanes],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    references = [f"s{n}" for n in range(8)]
    for reference in references:
        world.bus.handle(AddStock(reference=reference, quantity=0))
    consumer = make_consumer()
    lanes = make_lanes(consumer)
    used = {lanes.lane_of(Envelope(message=AddStock(reference=r, quantity=0))) for r in references}
    assert len(used) > 1
    listen(listeners, lanes, running)

    for quantity in range(1, 11):
        for n, reference in enumerate(references):  # each aggregate's commands on one source
            if n % 2:
                redis.publish(channels.command_channel("ChangeStock"), change(reference, quantity))
            else:
                redis.xadd(channels.commands_stream, {"message": change(reference, quantity)})

    eventually(lambda: consumer.stats.processed == 80, timeout=30)
    assert changes_in_commit_order(world) == {r: list(range(1, 11)) for r in references}
    for reference in references:
        stock = world.stock(reference)
        assert stock is not None and (stock.quantity, stock.changes, stock.reactions) == (
            10,
            10,
            10,
        )
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)


def test_with_several_lanes_nothing_is_lost_and_nothing_applied_twice(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    make_lanes: Callable[..., Lanes],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    references = [f"s{n}" for n in range(20)]
    for reference in references:
        world.bus.handle(AddStock(reference=reference, quantity=0))
    consumer = make_consumer()
    listen(listeners, make_lanes(consumer, workers=6), running, batch=7)
    commands = [change(r, q) for q in range(1, 6) for r in references]
    for command in commands + commands[::3]:  # a third of them twice, on the stream
        redis.xadd(channels.commands_stream, {"message": command})
    for command in commands[1::3]:  # and some a third time, on a channel
        redis.publish(channels.command_channel("ChangeStock"), command)
    redis.xadd(channels.commands_stream, {"message": "not json"})

    total = len(commands) + len(commands[::3]) + len(commands[1::3])  # duplicates count too
    eventually(lambda: consumer.stats.processed == total, timeout=30)
    eventually(lambda: consumer.stats.dead_lettered == 1)
    for reference in references:
        stock = world.stock(reference)
        # Exactly once each. (Which copy of a duplicate wins its place in the order is not
        # promised across two sources; order per aggregate is pinned by the test above.)
        assert stock is not None and (stock.changes, stock.reactions) == (5, 5)
    ids = [row.message_id for row in world.outbox()]
    assert len(ids) == len(set(ids)) == 20 + 100 * 2  # added; changed and noted once each
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)


def test_a_stream_entry_is_acknowledged_only_after_its_command_committed(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    make_lanes: Callable[..., Lanes],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    world.bus.handle(AddStock(reference=Gated.held, quantity=0))
    world.bus.handle(AddStock(reference="free", quantity=0))
    consumer = gated(world, redis, channels)
    listen(listeners, make_lanes(consumer), running)

    redis.xadd(channels.commands_stream, {"message": change(Gated.held, 3)})
    redis.xadd(channels.commands_stream, {"message": change("free", 4)})
    assert consumer.waiting.wait(5)
    eventually(lambda: world.stock("free").quantity == 4)  # another lane is not held up
    # The free entry is acknowledged just after its commit; the held one stays pending.
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 1)
    assert world.stock(Gated.held).quantity == 0

    consumer.gate.set()
    eventually(lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0)
    assert world.stock(Gated.held).quantity == 3


def test_stopping_finishes_the_message_in_hand_and_leaves_waiting_stream_entries_pending(
    world: World,
    make_consumer: Callable[..., CommandConsumer],
    listeners: Listeners,
    running: Running,
    redis: Redis,
    channels: Channels,
):
    world.bus.handle(AddStock(reference=Gated.held, quantity=0))
    consumer = gated(world, redis, channels)
    lanes = Lanes(consumer, workers=2, key=key_fields("reference")).start(running.stop)
    listen(listeners, lanes, running)
    redis.xadd(channels.commands_stream, {"message": change(Gated.held, 1)})
    assert consumer.waiting.wait(5)
    redis.xadd(channels.commands_stream, {"message": change(Gated.held, 2)})
    redis.publish(channels.command_channel("ChangeStock"), change(Gated.held, 3))
    eventually(lambda: sum(lane.qsize() for lane in lanes._queues) == 2)

    running.stop.set()
    consumer.gate.set()
    lanes.close(timeout=10)

    # In hand: applied and acknowledged; waiting on the channel: applied (it cannot come back);
    # waiting on the stream: neither, so it is re-delivered.
    assert changes_in_commit_order(world) == {Gated.held: [1, 3]}
    assert redis.xpending(channels.commands_stream, "shop")["pending"] == 1


class Noting(Gated):
    """A gated consumer that notes, for each command, whether the lane said more follow."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.noted: list[tuple[int, bool]] = []

    def run(self, envelope: Envelope, stop: threading.Event | None = None) -> Outcome:
        self.noted.append((envelope.message.quantity, context.more_follow()))  # type: ignore[attr-defined]
        return super().run(envelope, stop)


def test_a_lane_says_whether_more_messages_wait_behind_the_one_in_hand(
    world: World,
    make_lanes: Callable[..., Lanes],
    redis: Redis,
    channels: Channels,
):
    world.bus.handle(AddStock(reference=Gated.held, quantity=0))
    reader = CommandReader(world.serializer, channels, ACCEPTED)
    consumer = Noting(world.bus, reader, DeadLetterStream(redis, channels.dead_letters_stream),
                      failures=FAILURES, max_backoff=0.05)  # fmt: skip
    lanes = make_lanes(consumer, workers=1)
    lanes.submit(change(Gated.held, 1), channels.command_channel("ChangeStock"))
    assert consumer.waiting.wait(5)  # the first is in hand, nothing behind it yet
    for quantity in (2, 3):
        lanes.submit(change(Gated.held, quantity), channels.command_channel("ChangeStock"))
    consumer.gate.set()
    eventually(lambda: len(consumer.noted) == 3)
    assert consumer.noted == [(1, False), (2, True), (3, False)]
    assert not context.more_follow()  # only inside the lane's run
