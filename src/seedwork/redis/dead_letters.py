"""The dead-letter stream: messages that failed by their own fault, kept with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs
from redis import Redis

from seedwork.core.messages import utcnow
from seedwork.redis.wire import as_bytes


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
