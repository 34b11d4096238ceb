"""The command consumer: Redis messages become commands on the bus, once per message id.

``CommandReader`` (see ``seedwork.redis.reader``) turns the text into an envelope; the
bus de-duplicates by ``message_id`` in the command's own transaction. A message that fails
by its own fault (``seedwork.core.failures``) is kept in the dead-letter stream with the reason,
and the consumer carries on. A transient failure (the database or Redis unreachable, a
timeout, a serialization failure) is no dead letter: the message is applied again with
backoff until it succeeds, for as long as the outage lasts. If the consumer is stopped
first, the outcome is ``pending``: a stream entry stays unacknowledged (re-delivered later);
a pub/sub message, which cannot be had again, is kept as an ``Unavailable`` dead letter to
replay. Whether a message that failed was applied after all (a commit whose answer was lost)
is decided by the inbox, never by the exception: a message is never both applied and
dead-lettered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import attrs

from seedwork.core.bus import MessageBus
from seedwork.core.errors import MessageError
from seedwork.core.failures import Failures
from seedwork.core.messages import Envelope
from seedwork.core.retry import retry_transient
from seedwork.core.uow import Inbox
from seedwork.redis.dead_letters import DeadLetterStore
from seedwork.redis.outcomes import ConsumerStats, Outcome
from seedwork.redis.reader import CommandReader
from seedwork.redis.sinks import Handover

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics
    from seedwork.observability.tracing import Tracing

log = logging.getLogger("seedwork.redis.consumer")

T = TypeVar("T")


class CommandConsumer:
    """Applies raw Redis messages to the bus and dead-letters those that fail by their fault."""

    def __init__(
        self,
        bus: MessageBus,
        reader: CommandReader,
        dead_letters: DeadLetterStore,
        *,
        failures: Failures,
        inbox: Inbox | None = None,
        max_backoff: float = 2.0,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._metrics = metrics
        self._tracing = tracing
        self._bus = bus
        self._reader = reader
        self.dead_letters = dead_letters
        self._inbox = inbox
        self._failures = failures
        self._max_backoff = max_backoff
        self.stats = ConsumerStats()

    def read(
        self, raw: str | bytes, channel: str | bytes, stream_entry: str | None = None
    ) -> Envelope:
        """The command envelope of a message; ``MessageError`` when it has none."""
        return self._reader.read(raw, channel, stream_entry)

    def apply(
        self,
        raw: str | bytes,
        channel: str | bytes,
        *,
        stream_entry: str | None = None,
        stop: threading.Event | None = None,
    ) -> Outcome:
        """Read and handle one message; never raises for a bad message."""
        try:
            envelope = self._reader.read(raw, channel, stream_entry)
        except MessageError as error:
            return Outcome(ok=False, error=self._failures.describe(error))
        return self.run(envelope, stop)

    def run(self, envelope: Envelope, stop: threading.Event | None = None) -> Outcome:
        """Handle a command envelope, retrying transient failures until it succeeds or
        ``stop`` is set; never raises for the message."""
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
        try:
            self._patiently(envelope, self._bus.handle, envelope, stop=stop)
        except Exception as error:  # noqa: BLE001 - any failure is this message's, not ours
            if self._failures.is_transient(error):
                return self._pending(error)
            return self._failed(envelope, error, stop)
        return Outcome(ok=True)

    def _failed(
        self, envelope: Envelope, error: Exception, stop: threading.Event | None
    ) -> Outcome:
        """The outcome of a message whose handling raised: the inbox says if it was applied."""
        log.debug(
            "command failed type=%s message_id=%s",
            envelope.name,
            envelope.message_id,
            exc_info=error,
        )
        handler = self._bus.command_handler_name(type(envelope.message))
        if self._inbox is None or not envelope.dedupe or handler is None:
            return Outcome(ok=False, error=self._failures.describe(error))
        inbox = self._inbox
        try:
            applied = self._patiently(
                envelope, inbox.applied, envelope.message_id, handler, stop=stop
            )
        except Exception as check_error:
            if self._failures.is_transient(check_error):
                return self._pending(check_error)
            raise
        if applied:
            log.info(
                "command committed although its handling failed type=%s message_id=%s error=%s",
                envelope.name,
                envelope.message_id,
                self._failures.describe(error),
            )
            return Outcome(ok=True)
        return Outcome(ok=False, error=self._failures.describe(error))

    def suspect(self, raw: str | bytes, channel: str | bytes, stream_entry: str) -> bool:
        """Whether a stream entry delivered too often may be what takes the consumer down.

        Not while the database is unreachable (the outage kept it pending, not the entry) and
        not once the inbox says it was applied (handled again, it is only acknowledged).
        """
        try:
            envelope = self._reader.read(raw, channel, stream_entry)
        except Exception:  # noqa: BLE001 - unreadable: handled again it is a dead letter anyway
            return True
        handler = self._bus.command_handler_name(type(envelope.message))
        if self._inbox is None or handler is None:
            return True
        try:
            return not self._inbox.applied(envelope.message_id, handler)
        except Exception as error:  # noqa: BLE001 - whatever the check does, the listener lives
            return not self._failures.is_transient(error)

    def _patiently(
        self, envelope: Envelope, call: Callable[..., T], *args: Any, stop: threading.Event | None
    ) -> T:
        """``call(*args)`` for ``envelope``, retried while it fails transiently (until ``stop``)."""

        def note(attempt: int, wait: float, error: BaseException) -> None:
            self.stats.count_retry()
            log.warning(
                "command failed for a transient reason, retrying type=%s message_id=%s"
                " attempt=%d wait=%.2fs error=%s",
                envelope.name, envelope.message_id, attempt, wait, self._failures.describe(error),
            )  # fmt: skip
            log.debug("transient failure", exc_info=error)

        return retry_transient(
            call,
            *args,
            stop=stop,
            transient=self._failures.is_transient,
            max_backoff=self._max_backoff,
            on_retry=note,
        )

    def _pending(self, error: BaseException) -> Outcome:
        """Stopped while a transient failure lasted: neither applied nor the message's fault."""
        return Outcome(
            ok=False, pending=True, error=f"Unavailable: {self._failures.describe(error)}"
        )

    def consume(
        self,
        raw: str | bytes,
        channel: str | bytes,
        *,
        stream_entry: str | None = None,
        stop: threading.Event | None = None,
    ) -> Outcome:
        """Apply one message; one that fails by its own fault goes to the dead-letter stream."""
        outcome = self.apply(raw, channel, stream_entry=stream_entry, stop=stop)
        return self.settle(outcome, raw, channel, redelivered=stream_entry is not None)

    def settle(
        self, outcome: Outcome, raw: str | bytes, channel: str | bytes, *, redelivered: bool = False
    ) -> Outcome:
        """Count an outcome; a failed one goes to the dead-letter stream.

        A pending one stays pending when the message will be delivered again
        (``redelivered``: an unacknowledged stream entry); otherwise it cannot be had again
        and is kept as an ``Unavailable`` dead letter, to be replayed.
        """
        if outcome.ok:
            self.stats.count(outcome)
            return outcome
        if outcome.pending and redelivered:
            log.info("command left pending channel=%s error=%s", channel, outcome.error)
            return outcome
        self.reject(raw, outcome.error, channel)
        return attrs.evolve(outcome, pending=False)

    def submit(self, raw: str | bytes, channel: str | bytes, **handover: Unpack[Handover]) -> None:
        """Consume one message here and now, then call ``done`` (a listener's ``Sink``)."""
        done = handover.get("done")
        try:
            outcome = self.consume(
                raw, channel, stream_entry=handover.get("stream_entry"), stop=handover.get("stop")
            )
        except BaseException:
            if done is not None:
                done(False)
            raise
        if done is not None:
            done(not outcome.pending)

    def reject(self, raw: str | bytes, error: str, channel: str | bytes) -> None:
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
