"""Redis names and plumbing shared by the relay and the consumer.

Every name starts with one prefix: ``<prefix>.events.<snake_name>`` channels and the
``<prefix>.events`` stream go out; ``<prefix>.commands.<snake_name>`` channels and the
``<prefix>.commands`` stream come in; ``<prefix>.dead_letters`` keeps what could not be
processed. Reconnection waits come from tenacity and end early when the worker is stopped.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.errors import MessageError
from seedwork.messages import utcnow
from seedwork.wire import as_bytes

log = logging.getLogger("seedwork.redis")

#: Errors that mean "Redis is not reachable now": wait and reconnect.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def snake_case(name: str) -> str:
    """``BatchQuantityChanged`` → ``batch_quantity_changed``."""
    return _CAMEL.sub("_", name).lower()


def camel_case(name: str) -> str:
    """``batch_quantity_changed`` → ``BatchQuantityChanged``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@attrs.frozen
class Channels:
    """The Redis channel and stream names under one prefix."""

    prefix: str

    def event_channel(self, name: str) -> str:
        """The pub/sub channel of an event type."""
        return f"{self.prefix}.events.{snake_case(name)}"

    def command_channel(self, name: str) -> str:
        """The pub/sub channel of a command type."""
        return f"{self.prefix}.commands.{snake_case(name)}"

    @property
    def events_stream(self) -> str:
        """The stream every published event is appended to."""
        return f"{self.prefix}.events"

    @property
    def commands_pattern(self) -> str:
        """The pattern matching every command channel."""
        return f"{self.prefix}.commands.*"

    @property
    def commands_stream(self) -> str:
        """The durable stream of incoming commands."""
        return f"{self.prefix}.commands"

    @property
    def dead_letters_stream(self) -> str:
        """The stream of messages that could not be processed."""
        return f"{self.prefix}.dead_letters"

    def command_name(self, channel: str) -> str | None:
        """The command type a command channel names, or None for a channel outside
        ``<prefix>.commands.``; ``MessageError`` for any other name inside it."""
        head = f"{self.prefix}.commands."
        if not channel.startswith(head):
            return None
        suffix = channel[len(head) :]
        name = camel_case(suffix)
        if not _SNAKE.fullmatch(suffix) or snake_case(name) != suffix:
            raise MessageError(
                f"the channel {channel!r} is not a command channel ({head}<snake_case_name>)"
            )
        return name


class RedisPublisher:
    """Publishes envelopes on channels and appends them to a stream, one pipeline per batch."""

    def __init__(self, client: Redis, stream: str, stream_maxlen: int | None = None) -> None:
        self._client = client
        self._stream = stream
        self._maxlen = stream_maxlen

    def publish_batch(self, messages: Sequence[tuple[str, str]]) -> None:
        """Send every (channel, text) in order; raises unless all of them went out."""
        pipe = self._client.pipeline(transaction=False)
        for channel, text in messages:
            pipe.publish(channel, text)
            pipe.xadd(self._stream, {"message": text}, maxlen=self._maxlen, approximate=True)
        pipe.execute()


@attrs.frozen
class DeadLetter:
    """One message that could not be processed, as kept in the dead-letter stream.

    ``message`` and ``channel`` are for reading (bytes that are not UTF-8 shown as ``\\xff``);
    ``raw`` and ``raw_channel`` are the bytes as they came, for a replay.
    """

    id: str
    message: str
    error: str
    channel: str
    failed_at: str
    raw: bytes = b""
    raw_channel: bytes = b""


class DeadLetterStream:
    """The dead-letter stream: add, list, fetch and remove entries.

    ``maxlen``: the stream is kept at about that many entries (the oldest go first).
    """

    def __init__(
        self,
        client: Redis,
        stream: str,
        maxlen: int | None = None,
        *,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._client = client
        self.stream = stream
        self._maxlen = maxlen
        # Masks secrets in the error text before it is kept (the message is kept as it came).
        self._redact = redact or (lambda text: text)

    def add(self, message: str | bytes, error: str, channel: str | bytes) -> str:
        """Keep a message, byte for byte, with why it failed; returns the entry id."""
        fields = {
            b"message": as_bytes(message),
            b"error": as_bytes(self._redact(error)),
            b"channel": as_bytes(channel),
            b"failed_at": utcnow().isoformat().encode(),
        }
        entry_id = self._client.xadd(
            self.stream,
            fields,  # type: ignore[arg-type]
            maxlen=self._maxlen,
            approximate=True,
        )
        return _text(entry_id)

    def list(self, limit: int = 50, after: str | None = None) -> list[DeadLetter]:
        """The oldest ``limit`` dead letters (after the id ``after``, when given)."""
        start = "-" if after is None else f"({after}"
        entries = self._client.xrange(self.stream, min=start, count=limit)
        return [_dead_letter(entry_id, fields) for entry_id, fields in entries]  # type: ignore[union-attr]

    def get(self, entry_id: str) -> DeadLetter | None:
        """One dead letter by id, or None."""
        entries: Any = self._client.xrange(self.stream, min=entry_id, max=entry_id)
        if not entries:
            return None
        return _dead_letter(*entries[0])

    def remove(self, entry_id: str) -> None:
        """Delete a dead letter (after a successful replay)."""
        self._client.xdel(self.stream, entry_id)

    def count(self) -> int:
        """How many dead letters are kept."""
        return int(self._client.xlen(self.stream))  # type: ignore[arg-type]


def _text(value: Any) -> str:
    return value.decode(errors="backslashreplace") if isinstance(value, bytes) else str(value)


def _dead_letter(entry_id: Any, fields: Any) -> DeadLetter:
    data = {as_bytes(k): as_bytes(v) for k, v in fields.items()}
    return DeadLetter(
        id=_text(entry_id),
        message=_text(data.get(b"message", b"")),
        error=_text(data.get(b"error", b"")),
        channel=_text(data.get(b"channel", b"")),
        failed_at=_text(data.get(b"failed_at", b"")),
        raw=data.get(b"message", b""),
        raw_channel=data.get(b"channel", b""),
    )


def sleeper(stop: threading.Event) -> Callable[[float], None]:
    """A tenacity ``sleep`` that returns early when ``stop`` is set."""

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    return sleep


def await_redis(client: Redis, stop: threading.Event, worker: str) -> bool:
    """Ping until Redis answers, backing off between tries; False when stopped first."""

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "redis unreachable, reconnecting worker=%s attempt=%d wait=%.2fs error=%r",
            worker,
            state.attempt_number,
            wait,
            error,
        )

    retrying = Retrying(
        retry=retry_if_exception_type(UNREACHABLE),
        wait=wait_random_exponential(multiplier=0.05, max=5.0),
        stop=stop_when_event_set(stop),
        sleep=sleeper(stop),
        before_sleep=note,
        reraise=True,
    )
    try:
        retrying(client.ping)
    except UNREACHABLE:
        return False
    log.info("redis reachable worker=%s", worker)
    return True
