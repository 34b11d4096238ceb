"""The message bus rules, pinned through its public surface with in-memory fakes."""

from __future__ import annotations

import threading
from collections import Counter as Tally
from typing import Any

import attrs
import pytest

from seedwork.core.bus import MessageBus
from seedwork.core.errors import ConcurrencyConflict, ConfigurationError
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Command, Envelope, Event
from seedwork.core.model import AggregateRoot
from seedwork.core.retry import RetryPolicy
from seedwork.testing.fakes import FakeDeadLetters, FakeInbox, FakeRepository, FakeUnitOfWork

FAST = RetryPolicy(conflict_attempts=4, event_attempts=3, initial_wait=0.0001, max_wait=0.001)


@attrs.frozen(kw_only=True)
class Increment(Command):
    counter_id: str
    by: int = 1


@attrs.frozen(kw_only=True)
class Incremented(Event):
    counter_id: str
    value: int


@attrs.frozen(kw_only=True)
class Noted(Event):
    counter_id: str


@attrs.define(slots=False, eq=False)
class Counter(AggregateRoot):
    identity_field = "counter_id"
    counter_id: str
    value: int = 0

    def increment(self, by: int) -> None:
        self.value += by
        self.record(Incremented(counter_id=self.counter_id, value=self.value))


class CounterUnitOfWork(FakeUnitOfWork):
    """The fake unit of work over one repository of counters."""

    counters: FakeRepository

    def __init__(
        self, counters: FakeRepository, inbox: FakeInbox | None = None, project: Any = None
    ) -> None:
        super().__init__(inbox, project)
        self._counters = counters

    def _open(self) -> None:
        self.counters = self.track(self._counters)


def increment(command: Increment, uow: CounterUnitOfWork) -> int:
    with uow:
        counter = uow.counters.get(command.counter_id)
        if counter is None:
            counter = Counter(command.counter_id)
            uow.counters.add(counter)
        counter.increment(command.by)
        uow.commit()
        return counter.value


@attrs.define
class World:
    """A bus wired to fakes, with what the handlers saw."""

    bus: MessageBus
    repository: FakeRepository
    dead_letters: FakeDeadLetters
    seen: list[Envelope]
    uows: list[CounterUnitOfWork]


def make_world(
    *,
    events: dict[type[Event], list[Any]] | None = None,
    command: Any = increment,
    project: Any = None,
) -> World:
    repository = FakeRepository()
    inbox = FakeInbox()
    uows: list[CounterUnitOfWork] = []
    lock = threading.Lock()

    def new_uow() -> CounterUnitOfWork:
        uow = CounterUnitOfWork(repository, inbox=inbox, project=project)
        with lock:
            uows.append(uow)
        return uow

    dead_letters = FakeDeadLetters()
    seen: list[Envelope] = []
    bus = MessageBus(
        command_handlers={Increment: command},
        event_handlers=events or {},
        dependencies=Dependencies(values={"seen": seen}, factories={"uow": new_uow}),
        dead_letters=dead_letters,
        retry=FAST,
    )
    return World(bus, repository, dead_letters, seen, uows)


def test_a_command_goes_to_its_one_handler_and_returns_its_result() -> None:
    world = make_world()
    assert world.bus.handle(Increment(counter_id="a", by=2)) == 2
    assert world.bus.handle(Increment(counter_id="a", by=3)) == 5


def test_a_call_reports_the_events_of_each_of_its_commits_in_order() -> None:
    def note(event: Incremented, uow: CounterUnitOfWork) -> None:
        with uow:
            uow.counters.get(event.counter_id).record(Noted(counter_id=event.counter_id))
            uow.commit()

    world = make_world(events={Incremented: [note]})
    committed: list[Envelope] = []
    world.bus.handle(Increment(counter_id="a", by=2), committed=committed)
    assert [e.message for e in committed] == [
        Incremented(counter_id="a", value=2),
        Noted(counter_id="a"),
    ]


def test_the_projections_see_each_commits_events_before_it_counts() -> None:
    projected: list[Event] = []
    world = make_world(project=lambda envelopes: projected.extend(e.message for e in envelopes))
    world.bus.handle(Increment(counter_id="a", by=2))
    assert projected == [Incremented(counter_id="a", value=2)]


def test_a_failing_projection_fails_the_change_and_releases_no_event() -> None:
    def broken(envelopes: Any) -> None:
        raise RuntimeError("the read model is broken")

    world = make_world(project=broken)
    committed: list[Envelope] = []
    with pytest.raises(RuntimeError, match="read model is broken"):
        world.bus.handle(Increment(counter_id="a", by=2), committed=committed)
    assert committed == []
    assert [uow.outbox for uow in world.uows] == [[]]
    assert [uow.commits for uow in world.uows] == [0]


def test_a_second_handler_for_one_command_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="Increment has two handlers"):
        MessageBus.from_pairs(
            commands=[(Increment, increment), (Increment, increment)],
            events={},
            dependencies=Dependencies(),
            dead_letters=FakeDeadLetters(),
        )


def test_an_unknown_dependency_is_refused_at_start_up_with_its_name() -> None:
    def needs_mailer(command: Increment, mailer: object) -> None: ...

    with pytest.raises(ConfigurationError, match="unknown dependency 'mailer'"):
        MessageBus(
            command_handlers={Increment: needs_mailer},
            event_handlers={},
            dependencies=Dependencies(values={"uow": object()}),
            dead_letters=FakeDeadLetters(),
        )


def test_a_command_without_handler_is_an_error() -> None:
    @attrs.frozen(kw_only=True)
    class Orphan(Command):
        pass

    with pytest.raises(ConfigurationError, match="no handler for command Orphan"):
        make_world().bus.handle(Orphan())


def test_command_handler_errors_reach_the_caller() -> None:
    def refuse(command: Increment) -> None:
        raise PermissionError("not today")

    with pytest.raises(PermissionError, match="not today"):
        make_world(command=refuse).bus.handle(Increment(counter_id="a"))


def test_events_are_dispatched_to_every_handler_after_commit() -> None:
    def remember(event: Incremented, seen: list[Envelope]) -> None:
        seen.append(Envelope(message=event))

    def remember_too(event: Incremented, seen: list[Envelope]) -> None:
        seen.append(Envelope(message=event))

    world = make_world(events={Incremented: [remember, remember_too]})
    world.bus.handle(Increment(counter_id="a"))
    assert [e.message for e in world.seen] == [Incremented(counter_id="a", value=1)] * 2


def test_no_event_leaves_a_unit_of_work_whose_commit_failed() -> None:
    def failing_commit(command: Increment, uow: CounterUnitOfWork) -> None:
        uow.fail_next_commit = OSError("disk full")
        increment(command, uow)

    def remember(event: Incremented, seen: list[Envelope]) -> None:
        seen.append(Envelope(message=event))

    world = make_world(command=failing_commit, events={Incremented: [remember]})
    with pytest.raises(OSError, match="disk full"):
        world.bus.handle(Increment(counter_id="a"))
    assert world.seen == []


def test_no_event_leaves_a_handler_that_did_not_commit() -> None:
    def forgets_to_commit(command: Increment, uow: CounterUnitOfWork) -> None:
        with uow:
            counter = Counter(command.counter_id)
            uow.counters.add(counter)
            counter.increment(1)

    def remember(event: Incremented, seen: list[Envelope]) -> None:
        seen.append(Envelope(message=event))

    world = make_world(command=forgets_to_commit, events={Incremented: [remember]})
    world.bus.handle(Increment(counter_id="a"))
    assert world.seen == []


def test_a_failing_event_handler_is_retried_then_dead_lettered_and_the_command_succeeds() -> None:
    calls = Tally[str]()

    def broken(event: Incremented) -> None:
        calls["broken"] += 1
        raise RuntimeError("mail server down")

    def healthy(event: Incremented, seen: list[Envelope]) -> None:
        seen.append(Envelope(message=event))

    world = make_world(events={Incremented: [broken, healthy]})
    assert world.bus.handle(Increment(counter_id="a")) == 1
    assert calls["broken"] == FAST.event_attempts
    assert len(world.seen) == 1
    [letter] = world.dead_letters.letters
    assert letter.handler.endswith("broken")
    assert isinstance(letter.error, RuntimeError)
    assert letter.envelope.message == Incremented(counter_id="a", value=1)


class UnreachableDeadLetters(FakeDeadLetters):
    """Failed events kept in a database that is down too."""

    def record(self, envelope: Envelope, handler: str, error: BaseException) -> None:
        raise ConnectionError("the database is unreachable")


def test_a_failure_that_cannot_be_recorded_never_breaks_the_committed_command() -> None:
    def broken(event: Incremented) -> None:
        raise ConnectionError("the database is unreachable")

    world = make_world(events={Incremented: [broken]})
    bus = MessageBus(
        command_handlers={Increment: increment},
        event_handlers={Incremented: [broken]},
        dependencies=Dependencies(factories={"uow": lambda: world.uows[0]}),
        dead_letters=UnreachableDeadLetters(),
        retry=FAST,
    )
    world.uows.append(CounterUnitOfWork(world.repository, inbox=FakeInbox()))
    assert bus.handle(Increment(counter_id="a")) == 1  # committed: the caller hears success
    assert world.repository.get("a").value == 1


def test_an_event_handler_that_recovers_on_retry_is_not_dead_lettered() -> None:
    attempts: list[int] = []

    def flaky(event: Incremented) -> None:
        attempts.append(1)
        if len(attempts) < 2:
            raise TimeoutError("slow")

    world = make_world(events={Incremented: [flaky]})
    world.bus.handle(Increment(counter_id="a"))
    assert len(attempts) == 2
    assert world.dead_letters.letters == []


def test_a_reaction_losing_conflicts_keeps_trying_for_its_patience_not_only_its_attempts() -> None:
    # Each conflict is another writer's progress: under a long contention storm a reaction
    # (which has no caller to answer 409) waits its turn instead of being given up on.
    losses = 10 * FAST.conflict_attempts

    def contended(event: Incremented) -> None:
        nonlocal losses
        if losses:
            losses -= 1
            raise ConcurrencyConflict("another writer won")

    world = make_world(events={Incremented: [contended]})
    world.bus.handle(Increment(counter_id="a"))
    assert losses == 0
    assert world.dead_letters.letters == []


def test_a_conflicting_command_is_retried_until_it_wins() -> None:
    conflicts = [ConcurrencyConflict("lost"), ConcurrencyConflict("lost again")]

    def contended(command: Increment, uow: CounterUnitOfWork) -> int:
        if conflicts:
            raise conflicts.pop()
        return increment(command, uow)

    assert make_world(command=contended).bus.handle(Increment(counter_id="a")) == 1


def test_a_command_still_conflicting_after_every_retry_reaches_the_caller() -> None:
    attempts: list[int] = []

    def hopeless(command: Increment) -> None:
        attempts.append(1)
        raise ConcurrencyConflict("always")

    with pytest.raises(ConcurrencyConflict):
        make_world(command=hopeless).bus.handle(Increment(counter_id="a"))
    assert len(attempts) == FAST.conflict_attempts


def test_every_message_gets_a_fresh_unit_of_work() -> None:
    world = make_world(events={Incremented: [lambda event, uow: None]})
    world.bus.handle(Increment(counter_id="a"))
    world.bus.handle(Increment(counter_id="a"))
    assert len(world.uows) == 4
    assert len({id(u) for u in world.uows}) == 4


def test_correlation_and_causation_ids_follow_three_messages_deep() -> None:
    def note(event: Incremented, uow: CounterUnitOfWork) -> None:
        with uow:
            counter = uow.counters.get(event.counter_id)
            counter.record(Noted(counter_id=event.counter_id))
            uow.commit()

    def remember(event: Noted, seen: list[Envelope]) -> None: ...

    world = make_world(events={Incremented: [note], Noted: [remember]})
    first = Envelope(message=Increment(counter_id="a"))
    world.bus.handle(first)
    outbox = [e for uow in world.uows for e in uow.outbox]
    [incremented] = [e for e in outbox if isinstance(e.message, Incremented)]
    [noted] = [e for e in outbox if isinstance(e.message, Noted)]
    assert incremented.causation_id == first.message_id
    assert noted.causation_id == incremented.message_id
    assert {first.correlation_id, incremented.correlation_id, noted.correlation_id} == {
        first.message_id
    }
    assert len({first.message_id, incremented.message_id, noted.message_id}) == 3


def test_a_message_marked_for_deduplication_is_applied_once() -> None:
    world = make_world()
    envelope = Envelope(message=Increment(counter_id="a"), dedupe=True)
    results = [world.bus.handle(envelope) for _ in range(3)]
    assert results == [1, None, None]
    assert world.repository.get("a").value == 1


def test_re_dispatched_events_are_not_applied_twice() -> None:
    def count(event: Incremented, uow: CounterUnitOfWork, seen: list[Envelope]) -> None:
        with uow:
            seen.append(Envelope(message=event))
            uow.commit()

    world = make_world(events={Incremented: [count]})
    world.bus.handle(Increment(counter_id="a"))
    committed = [e for uow in world.uows for e in uow.outbox]
    world.bus.dispatch_events(committed)
    assert len(world.seen) == 1


def test_the_bus_is_re_entrant() -> None:
    world_box: list[World] = []

    def cascade(event: Incremented) -> None:
        if event.value < 3:
            world_box[0].bus.handle(Increment(counter_id=event.counter_id))

    world = make_world(events={Incremented: [cascade]})
    world_box.append(world)
    world.bus.handle(Increment(counter_id="a"))
    assert world.repository.get("a").value == 3


def test_one_bus_shared_by_16_threads_loses_nothing_and_mixes_nothing() -> None:
    threads, per_thread = 16, 1000
    received: dict[str, list[int]] = {str(t): [] for t in range(threads)}

    def collect(event: Incremented) -> None:
        received[event.counter_id].append(event.value)

    world = make_world(events={Incremented: [collect]})
    results: dict[str, list[int]] = {str(t): [] for t in range(threads)}
    start = threading.Barrier(threads)

    def client(name: str) -> None:
        start.wait()
        for _ in range(per_thread):
            results[name].append(world.bus.handle(Increment(counter_id=name)))

    workers = [threading.Thread(target=client, args=(str(t),)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    expected = list(range(1, per_thread + 1))
    for name in results:
        assert results[name] == expected
        assert received[name] == expected
