"""What the consumer makes of a message (``Outcome``), and its counters."""

from __future__ import annotations

import threading

import attrs


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
