"""A consumer's share of a consumer group: its name, its pending entries, XPENDING, XCLAIM, XACK.

``StreamListener`` decides what to read, take over and dead-letter; this says which pending
entries another consumer abandoned, takes them over, keeps the entries still in this
consumer's hands looking alive, and acknowledges. The set of entries in hand (handed to the
sink and not settled yet) is shared by the listener's thread and the lanes that settle them.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from typing import Any

from redis import Redis
from redis.exceptions import ResponseError

from seedwork.redis.wire import shown


def consumer_name() -> str:
    """A name unique to this process for the consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def text_of(value: Any) -> str:
    """An entry id (or field name) as Redis gave it, as text."""
    return shown(value) if isinstance(value, bytes) else str(value)


class PendingEntries:
    """The pending entries list of one stream and group, as one named consumer sees it."""

    def __init__(self, client: Redis, stream: str, group: str, name: str) -> None:
        self._client = client
        self._stream = stream
        self._group = group
        self._name = name
        self._in_hand: set[str] = set()
        self._lock = threading.Lock()

    def create_group(self) -> None:
        """Create the group (and the stream), reading from the first entry, unless they exist."""
        try:
            self._client.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def hold(self, entry_id: str) -> None:
        """An entry was handed to the sink: never take it for abandoned."""
        with self._lock:
            self._in_hand.add(entry_id)

    def release(self, entry_id: str) -> None:
        """The sink settled an entry (or could not take it)."""
        with self._lock:
            self._in_hand.discard(entry_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._in_hand)

    def acknowledge(self, entry_id: Any) -> None:
        """XACK: the entry is done with."""
        self._client.xack(self._stream, self._group, entry_id)

    def abandoned(self, start: str, count: int, idle_ms: int) -> tuple[str | None, dict[str, int]]:
        """Up to ``count`` pending entries from ``start`` idle at least ``idle_ms``, but for
        those in hand: how often each was delivered, and where the next page starts (None:
        this was the last page)."""
        pending: Any = self._client.xpending_range(
            self._stream, self._group, min=start, max="+", count=count, idle=idle_ms
        )
        if not pending:
            return None, {}
        with self._lock:
            delivered = {
                text_of(row["message_id"]): int(row["times_delivered"])
                for row in pending
                if text_of(row["message_id"]) not in self._in_hand
            }
        following = "(" + text_of(pending[-1]["message_id"]) if len(pending) == count else None
        return following, delivered

    def claim(self, ids: list[str], idle_ms: int) -> list[Any]:
        """XCLAIM entries still idle ``idle_ms`` (one more delivery each); deleted ones left out."""
        claimed: Any = self._client.xclaim(
            self._stream, self._group, self._name, idle_ms, message_ids=list(ids)
        )
        return [entry for entry in claimed if entry and entry[1] is not None]

    def touch_in_hand(self) -> None:
        """Reset the idle time of the entries in hand that this consumer still owns."""
        with self._lock:
            in_hand = list(self._in_hand)
        if not in_hand:
            return
        with self._client.pipeline(transaction=False) as pipe:
            for entry_id in in_hand:
                pipe.xpending_range(
                    self._stream, self._group, min=entry_id, max=entry_id, count=1,
                    consumername=self._name,
                )  # fmt: skip
            found = pipe.execute()
        owned: list[Any] = [entry_id for entry_id, row in zip(in_hand, found, strict=True) if row]
        if owned:
            self._client.xclaim(
                self._stream, self._group, self._name, 0, message_ids=owned, justid=True
            )

    def forgive(self, entry_id: str) -> None:
        """Count an entry left pending at a stop (an outage, a shutdown) as delivered once.

        Those deliveries were not the entry's fault: however often the consumer is stopped
        during an outage, the entry never reaches the delivery limit for it.
        """
        owned = self._client.xpending_range(
            self._stream, self._group, min=entry_id, max=entry_id, count=1,
            consumername=self._name,
        )  # fmt: skip
        if owned:
            self._client.xclaim(
                self._stream, self._group, self._name, 0, message_ids=[entry_id],
                justid=True, retrycount=1,
            )  # fmt: skip
