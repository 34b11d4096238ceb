"""The command consumer: Redis messages become commands on the bus, once per message id.

A message may be a full envelope, an envelope without ``type`` on a channel that names it,
or a bare payload. Messages from the stream without a ``message_id`` get one derived from
their stream entry id, so a re-delivered entry is still applied once; bare payloads on
pub/sub have no identity and are not de-duplicated. A message that cannot be processed is
kept in the dead-letter stream with the reason, and the consumer carries on. Errors listed
as transient (database unreachable, conflicts that outlasted the bus's retries) are retried
with backoff first.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Collection
from typing import Any

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
from seedwork.errors import ConcurrencyConflict, InvalidPayload, MessageError
from seedwork.messages import Envelope
from seedwork.redis_streams import Channels, DeadLetterStream, sleeper
from seedwork.serialization import ENVELOPE_FIELDS, Serializer

log = logging.getLogger("seedwork.consumer")

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    ConcurrencyConflict,
)
_STREAM_IDS = uuid.UUID("6f1c4d1e-5f0b-4a59-9b1e-3c2b8d7a0e11")


class NotAccepted(MessageError):
    """A well-formed message of a type this consumer does not take."""


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


class CommandReader:
    """Turns raw message text into a command envelope, or says precisely why not."""

    def __init__(
        self, serializer: Serializer, channels: Channels, accepted: Collection[str]
    ) -> None:
        self._serializer = serializer
        self._channels = channels
        self._accepted = frozenset(accepted)

    def read(self, raw: str | bytes, channel: str, stream_entry: str | None = None) -> Envelope:
        """The envelope to handle; ``MessageError`` (or ``NotAccepted``) when it cannot be."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise MessageError(f"not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise MessageError(f"message must be a JSON object, not {type(data).__name__}")
        named = self._channels.command_name(channel)
        envelope = data if set(ENVELOPE_FIELDS) & data.keys() else {"payload": data}
        name = envelope.get("type", named)
        if name is None:
            raise MessageError("message has no type (and the channel names none)")
        if not isinstance(name, str):
            raise MessageError("type must be a string")
        if named is not None and name != named:
            raise MessageError(f"type {name!r} does not match channel {channel!r}")
        if name not in self._accepted:
            accepted = ", ".join(sorted(self._accepted))
            raise NotAccepted(f"message type {name!r} is not accepted (accepted: {accepted})")
        identified = envelope.get("message_id") is not None
        if not identified and stream_entry is not None:
            derived = uuid.uuid5(_STREAM_IDS, f"{channel}/{stream_entry}")
            envelope = {**envelope, "message_id": str(derived)}
            identified = True
        result = self._serializer.from_dict(envelope, default_type=name)
        return attrs.evolve(result, dedupe=identified)


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
    ) -> None:
        self._bus = bus
        self._reader = reader
        self.dead_letters = dead_letters
        self._transient = transient
        self._attempts = transient_attempts
        self._max_backoff = max_backoff
        self.stats = ConsumerStats()

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
        if outcome.ok:
            self.stats.count(outcome)
        else:
            self.reject(raw, outcome.error, channel)
        return outcome

    def reject(self, raw: str | bytes, error: str, channel: str) -> None:
        """Dead-letter a message with the reason, count it and log it."""
        entry = self.dead_letters.add(raw, error, channel)
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
