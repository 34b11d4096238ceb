"""What the consumer makes of a message (``Outcome``), its counters, and where dead letters go."""

from __future__ import annotations

import threading
from typing import Protocol

import attrs

from seedwork.redis_streams import DeadLetter


class DeadLetterStore(Protocol):
    """The dead-letter stream as the consumer and the replay command use it."""

    stream: str

    def add(self, message: str | bytes, error: str, channel: str | bytes) -> str:
        """Keep a message with why it failed; returns the entry id."""

    def list(self, limit: int = 50, after: str | None = None) -> list[DeadLetter]:
        """The oldest ``limit`` dead letters (after the id ``after``, when given)."""

    def get(self, entry_id: str) -> DeadLetter | None:
        """One dead letter by id, or None."""

    def remove(self, entry_id: str) -> None:
        """Delete a dead letter (after a successful replay)."""

    def count(self) -> int:
        """How many dead letters are kept."""


@attrs.frozen
class Outcome:
    """What became of one message: applied (or a duplicate), failed with a reason, or pending.

    ``pending``: neither applied nor the message's fault (a transient failure outlasted the
    consumer's run); ``error`` then says what kept it.
    """

    ok: bool
    error: str = ""
    pending: bool = False


@attrs.define
class ConsumerStats:
    """Counters of one consumer, safe to bump from its threads."""

    processed: int = 0
    dead_lettered: int = 0
    retried: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def count(self, outcome: Outcome) -> int:
        """Count an outcome; returns the new total of its kind."""
        with self._lock:
            if outcome.ok:
                self.processed += 1
                return self.processed
            self.dead_lettered += 1
            return self.dead_lettered

    def count_retry(self) -> None:
        """Count one retry after a transient failure."""
        with self._lock:
            self.retried += 1
