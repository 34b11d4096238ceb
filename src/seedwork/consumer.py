"""The command consumer: Redis messages become commands on the bus, once per message id.

``CommandReader`` (see ``seedwork.command_reader``) turns the text into an envelope; the
bus de-duplicates by ``message_id`` in the command's own transaction. A message that cannot
be processed is kept in the dead-letter stream with the reason, and the consumer carries on.
Errors listed as transient (database unreachable, conflicts that outlasted the bus's
retries) are retried with backoff first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.bus import MessageBus
from seedwork.command_reader import CommandReader, NotAccepted
from seedwork.errors import ConcurrencyConflict, InvalidPayload, MessageError
from seedwork.messages import Envelope
from seedwork.redis_streams import DeadLetterStream, sleeper

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics
    from seedwork.observability.tracing import Tracing

__all__ = ["CommandConsumer", "CommandReader", "ConsumerStats", "NotAccepted", "Outcome"]

log = logging.getLogger("seedwork.consumer")

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    ConcurrencyConflict,
)


@attrs.frozen
class Outcome:
    """What became of one message: applied (or a duplicate), or the reason it failed."""

    ok: bool
    error: str = ""


@attrs.define
class ConsumerStats:
    """Counters of one consumer, safe to bump from its threads."""

    processed: int = 0
    dead_lettered: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def count(self, outcome: Outcome) -> int:
        """Count an outcome; returns the new total of its kind."""
        with self._lock:
            if outcome.ok:
                self.processed += 1
                return self.processed
            self.dead_lettered += 1
            return self.dead_lettered


class CommandConsumer:
    """Applies raw Redis messages to the bus and dead-letters those that fail."""

    def __init__(
        self,
        bus: MessageBus,
        reader: CommandReader,
        dead_letters: DeadLetterStream,
        *,
        transient: tuple[type[Exception], ...] = TRANSIENT_ERRORS,
        transient_attempts: int = 5,
        max_backoff: float = 2.0,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._metrics = metrics
        self._tracing = tracing
        self._bus = bus
        self._reader = reader
        self.dead_letters = dead_letters
        self._transient = transient
        self._attempts = transient_attempts
        self._max_backoff = max_backoff
        self.stats = ConsumerStats()

    def read(self, raw: str | bytes, channel: str, stream_entry: str | None = None) -> Envelope:
        """The command envelope of a message; ``MessageError`` when it has none."""
        return self._reader.read(raw, channel, stream_entry)

    def apply(
        self,
        raw: str | bytes,
        channel: str,
        *,
        stream_entry: str | None = None,
        stop: threading.Event | None = None,
    ) -> Outcome:
        """Read and handle one message; never raises for a bad message."""
        try:
            envelope = self._reader.read(raw, channel, stream_entry)
        except MessageError as error:
            return Outcome(ok=False, error=describe(error))
        return self.run(envelope, stop)

    def run(self, envelope: Envelope, stop: threading.Event | None = None) -> Outcome:
        """Handle a command envelope, retrying transient errors; never raises for it."""
        if self._tracing is None:
            return self._run(envelope, stop)
        with self._tracing.consuming(envelope) as span:
            # The command's spans are children of this one.
            traced = attrs.evolve(envelope, traceparent=self._tracing.traceparent())
            outcome = self._run(traced, stop)
            if not outcome.ok:
                self._tracing.failed(span, outcome.error)
            return outcome

    def _run(self, envelope: Envelope, stop: threading.Event | None) -> Outcome:
        retrying = Retrying(
            retry=retry_if_exception_type(self._transient),
            stop=stop_after_attempt(self._attempts)
            | stop_when_event_set(stop or threading.Event()),
            wait=wait_random_exponential(multiplier=0.02, max=self._max_backoff),
            sleep=sleeper(stop or threading.Event()),
            before_sleep=_log_retry(envelope),
            reraise=True,
        )
        try:
            retrying(self._bus.handle, envelope)
        except Exception as error:  # noqa: BLE001 - any failure is this message's, not ours
            return Outcome(ok=False, error=describe(error))
        return Outcome(ok=True)

    def consume(
        self,
        raw: str | bytes,
        channel: str,
        *,
        stream_entry: str | None = None,
        stop: threading.Event | None = None,
    ) -> Outcome:
        """Apply one message; one that fails goes to the dead-letter stream."""
        outcome = self.apply(raw, channel, stream_entry=stream_entry, stop=stop)
        return self.settle(outcome, raw, channel)

    def settle(self, outcome: Outcome, raw: str | bytes, channel: str) -> Outcome:
        """Count an outcome; a failed one goes to the dead-letter stream."""
        if outcome.ok:
            self.stats.count(outcome)
        else:
            self.reject(raw, outcome.error, channel)
        return outcome

    def submit(
        self,
        raw: str | bytes,
        channel: str,
        *,
        stream_entry: str | None = None,
        done: Callable[[bool], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Consume one message here and now, then call ``done`` (a listener's sink)."""
        try:
            self.consume(raw, channel, stream_entry=stream_entry, stop=stop)
        except BaseException:
            if done is not None:
                done(False)
            raise
        if done is not None:
            done(True)

    def reject(self, raw: str | bytes, error: str, channel: str) -> None:
        """Dead-letter a message with the reason, count it and log it."""
        entry = self.dead_letters.add(raw, error, channel)
        if self._metrics is not None:
            self._metrics.dead_lettered(error)
        total = self.stats.count(Outcome(ok=False, error=error))
        log.warning(
            "dead letter id=%s channel=%s error=%s dead_letters=%d message=%.200r",
            entry,
            channel,
            error,
            total,
            raw,
        )


def describe(error: BaseException) -> str:
    """An error as ``Type: message`` for a dead letter, invalid fields named one by one."""
    if isinstance(error, InvalidPayload):
        fields = "; ".join(
            f"{e.field}: {e.message}" if e.field else e.message for e in error.errors
        )
        return f"{type(error).__name__}: {fields}"
    return f"{type(error).__name__}: {error}"


def _log_retry(envelope: Envelope) -> Any:
    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "command failed, retrying type=%s message_id=%s attempt=%d error=%r",
            envelope.name,
            envelope.message_id,
            state.attempt_number,
            error,
        )

    return note
