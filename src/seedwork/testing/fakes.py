"""Fakes for unit tests: an in-memory unit of work, repository, publisher and dead letters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from seedwork.core.errors import AlreadyHandled
from seedwork.core.messages import Envelope, utcnow
from seedwork.core.model import AggregateRoot
from seedwork.core.uow import AbstractUnitOfWork
from seedwork.redis.dead_letters import DeadLetter
from seedwork.redis.wire import as_bytes


class FakeRepository:
    """Aggregates in a dict keyed by identity; ``where`` answers simple queries."""

    def __init__(self, aggregates: list[AggregateRoot] | None = None) -> None:
        self._items: dict[Any, AggregateRoot] = {a.identity: a for a in aggregates or []}

    def add(self, aggregate: AggregateRoot) -> None:
        """Store a new aggregate."""
        self._items[aggregate.identity] = aggregate

    def get(self, identity: Any) -> Any:
        """The aggregate with this identity, or None."""
        return self._items.get(identity)

    def where(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """Every aggregate matching a predicate, in insertion order."""
        return [a for a in self._items.values() if predicate(a)]

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)


class FakeInbox:
    """Which (message id, handler) pairs were applied."""

    def __init__(self) -> None:
        self.processed: set[tuple[str, str]] = set()

    def applied(self, message_id: str, handler: str) -> bool:
        """Whether this handler applied this message."""
        return (message_id, handler) in self.processed


class FakeUnitOfWork(AbstractUnitOfWork):
    """An in-memory unit of work with the real one's rules (it is an ``AbstractUnitOfWork``).

    A subclass declares its repositories as typed attributes and opens them in ``_open``,
    called at the start of each block, as the real ones do::

        class Counting(FakeUnitOfWork):
            counters: FakeRepository

            def _open(self) -> None:
                self.counters = self.track(self._counters)

    Commits are counted; a commit can be made to fail (``fail_next_commit``) to test that
    events are then withheld. ``project`` is given each commit's events before the commit
    counts, as the inline projections of the real one are (if it raises, the commit fails).
    Rollback discards pending events; in-memory changes to aggregates stay (a fake's limit).
    """

    def __init__(
        self,
        inbox: FakeInbox | None = None,
        project: Callable[[Sequence[Envelope]], None] | None = None,
    ) -> None:
        super().__init__()
        self.project = project
        self.inbox = inbox or FakeInbox()
        self.commits = 0
        self.outbox: list[Envelope] = []
        self.fail_next_commit: BaseException | None = None

    def _open(self) -> None:
        """Open this block's repositories (each through ``self.track``)."""

    def _begin(self) -> None:
        if (
            self.handling is not None
            and self.handling.dedupe
            and self._inbox_key() in self.inbox.processed
        ):
            raise AlreadyHandled(self.handling.envelope.message_id)
        self._open()

    def _commit(self, envelopes: list[Envelope]) -> None:
        """Keep the changes and the events, mark the message processed."""
        if self.fail_next_commit is not None:
            error, self.fail_next_commit = self.fail_next_commit, None
            raise error
        if self.project is not None and envelopes:
            self.project(envelopes)
        if self.handling is not None and self.handling.dedupe:
            self.inbox.processed.add(self._inbox_key())
        self.outbox.extend(envelopes)
        self.commits += 1

    def rollback(self) -> None:
        """Discard the events of the aborted change."""
        for aggregate in self._seen:
            aggregate.collect_events()

    def _inbox_key(self) -> tuple[str, str]:
        assert self.handling is not None
        return (self.handling.envelope.message_id, self.handling.handler)


@attrs.define
class RecordedFailure:
    """One event handling that failed for good, as the bus reports it."""

    envelope: Envelope
    handler: str
    error: BaseException


class FakeDeadLetters:
    """Collects dead letters in a list."""

    def __init__(self) -> None:
        self.letters: list[RecordedFailure] = []

    def record(self, envelope: Envelope, handler: str, error: BaseException) -> None:
        """Keep the failure."""
        self.letters.append(RecordedFailure(envelope, handler, error))


class FakeDeadLetterStream:
    """The dead-letter stream in memory, with ids in the stream's own form."""

    stream = "fake.dead_letters"

    def __init__(self) -> None:
        self.letters: dict[str, DeadLetter] = {}
        self._next = 0

    def add(self, message: str | bytes, error: str, channel: str | bytes) -> str:
        """Keep a message, byte for byte, with why it failed; returns the entry id."""
        self._next += 1
        entry_id = f"{self._next}-0"
        raw, raw_channel = as_bytes(message), as_bytes(channel)
        self.letters[entry_id] = DeadLetter(
            entry_id,
            _readable(raw),
            error,
            _readable(raw_channel),
            utcnow().isoformat(),
            raw=raw,
            raw_channel=raw_channel,
        )
        return entry_id

    def list(self, limit: int = 50, after: str | None = None) -> list[DeadLetter]:
        """The oldest ``limit`` dead letters (after the id ``after``, when given)."""
        floor = -1 if after is None else int(after.split("-")[0])
        kept = [letter for letter in self.letters.values() if int(letter.id.split("-")[0]) > floor]
        return kept[:limit]

    def get(self, entry_id: str) -> DeadLetter | None:
        """One dead letter by id, or None."""
        return self.letters.get(entry_id)

    def remove(self, entry_id: str) -> None:
        """Delete a dead letter."""
        self.letters.pop(entry_id, None)

    def count(self) -> int:
        """How many dead letters are kept."""
        return len(self.letters)


def _readable(value: bytes) -> str:
    return value.decode(errors="backslashreplace")
