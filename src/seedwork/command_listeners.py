"""Where commands come from: the pub/sub command channels and the durable commands stream.

Each listener hands messages to a sink: a ``CommandConsumer`` (applied there and then) or
``Lanes`` (applied by worker threads, in order per aggregate). It runs until its ``stop``
event is set and reconnects with backoff when Redis goes away. Pub/sub is fire-and-forget:
what is published while the listener is disconnected is not seen (the stream is the durable
way in). Stream entries are read with a consumer group and acknowledged (``done``) only after
the command committed or was dead-lettered; entries left pending by a consumer that died are
reclaimed (XPENDING then XCLAIM) once idle for ``claim_idle`` seconds, except those still in
this listener's own hands; one delivered more than ``max_deliveries`` times is dead-lettered,
unless the sink finds the database unreachable (an outage is no fault of the entry) or the
entry applied. An entry left pending when the listener stops counts as delivered once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from redis import Redis
from redis.exceptions import ResponseError

from seedwork.redis_streams import UNREACHABLE, Channels, await_redis

log = logging.getLogger("seedwork.consumer")


def consumer_name() -> str:
    """A name unique to this process for the consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Sink(Protocol):
    """Takes a message to apply; calls ``done(True)`` once it committed or was dead-lettered.

    ``done(False)``: it could be neither (Redis or the database gone); it stays pending.
    """

    def submit(
        self,
        raw: str | bytes,
        channel: str,
        *,
        stream_entry: str | None = None,
        done: Callable[[bool], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Apply (now or soon) one message."""

    def reject(self, raw: str | bytes, error: str, channel: str) -> None:
        """Dead-letter a message with the reason."""

    def suspect(self, raw: str | bytes, channel: str, stream_entry: str) -> bool:
        """Whether an entry delivered too often may be to blame (not while the database is
        unreachable, not once it was applied)."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ChannelListener:
    """Pattern-subscribes to ``<prefix>.commands.*`` and hands each message to the consumer."""

    def __init__(
        self, client: Redis, channels: Channels, consumer: Sink, *, poll: float = 0.5
    ) -> None:
        self._client = client
        self._channels = channels
        self._consumer = consumer
        self._poll = poll
        self.subscribed = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Listen until stopped."""
        while not stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.psubscribe(self._channels.commands_pattern)
                log.info("consumer subscribed pattern=%s", self._channels.commands_pattern)
                self.subscribed.set()
                while not stop.is_set():
                    message = pubsub.get_message(timeout=self._poll)
                    if message is not None and message["type"] == "pmessage":
                        channel = _text(message["channel"])
                        self._consumer.submit(message["data"], channel, stop=stop)
            except UNREACHABLE as error:
                self.subscribed.clear()
                log.warning("consumer lost redis source=channels error=%r", error)
                if not await_redis(self._client, stop, "consumer-channels"):
                    break
            finally:
                pubsub.close()
        log.info("consumer stopped source=channels")


class StreamListener:
    """Reads ``<prefix>.commands`` in a consumer group, acknowledging after the outcome."""

    def __init__(
        self,
        client: Redis,
        channels: Channels,
        consumer: Sink,
        *,
        group: str = "shop",
        name: str | None = None,
        block: float = 0.5,
        batch: int = 50,
        claim_idle: float = 15.0,
        claim_interval: float = 5.0,
        max_deliveries: int = 5,
    ) -> None:
        self._client = client
        self._stream = channels.commands_stream
        self._consumer = consumer
        self.group = group
        self.name = name or consumer_name()
        self._block_ms = int(block * 1000)
        self._batch = batch
        self._claim_idle_ms = int(claim_idle * 1000)
        self._claim_interval = claim_interval
        self._max_deliveries = max_deliveries
        self.ready = threading.Event()
        self._in_hand: set[str] = set()
        self._in_hand_lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        """Read, reclaim and acknowledge until stopped."""
        while not stop.is_set():
            try:
                self.ensure_group()
                self.ready.set()
                next_claim = 0.0
                while not stop.is_set():
                    if time.monotonic() >= next_claim:
                        self.reclaim(stop)
                        next_claim = time.monotonic() + self._claim_interval
                    self.read_new(stop)
            except UNREACHABLE as error:
                self.ready.clear()
                log.warning("consumer lost redis source=stream error=%r", error)
                if not await_redis(self._client, stop, "consumer-stream"):
                    break
        log.info("consumer stopped source=stream name=%s", self.name)

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless they exist."""
        try:
            self._client.xgroup_create(self._stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def read_new(self, stop: threading.Event) -> int:
        """Read new entries (waiting up to ``block``) and handle them; returns how many."""
        response: Any = self._client.xreadgroup(
            self.group, self.name, {self._stream: ">"}, count=self._batch, block=self._block_ms
        )
        return self._handle_all(response[0][1] if response else [], stop)

    def reclaim(self, stop: threading.Event) -> int:
        """Take over entries another consumer left pending too long, and handle them.

        Candidates come from XPENDING (idle at least ``claim_idle``, paged by id), which also
        says how often each was delivered; entries this consumer still holds are left alone and
        the rest are claimed (XCLAIM counts one more delivery). Entries still in hand are first
        touched with XCLAIM JUSTID, which counts nothing, so entries queued in a live consumer's
        lanes never look abandoned.
        """
        self._refresh_in_hand()
        handled, start = 0, "-"
        while not stop.is_set():
            pending: Any = self._client.xpending_range(
                self._stream, self.group, min=start, max="+", count=self._batch,
                idle=self._claim_idle_ms,
            )  # fmt: skip
            if not pending:
                break
            start = "(" + _text(pending[-1]["message_id"])
            with self._in_hand_lock:
                delivered = {
                    _text(row["message_id"]): int(row["times_delivered"])
                    for row in pending
                    if _text(row["message_id"]) not in self._in_hand
                }
            entries: list[Any] = []
            if delivered:
                ids: list[Any] = list(delivered)
                claimed: Any = self._client.xclaim(
                    self._stream, self.group, self.name, self._claim_idle_ms, message_ids=ids
                )
                entries = [entry for entry in claimed if entry and entry[1] is not None]
            if entries:
                log.info("consumer reclaimed entries=%d name=%s", len(entries), self.name)
                entries = self._within_delivery_limit(entries, delivered)
            handled += self._handle_all(entries, stop)
            if len(pending) < self._batch:
                break
        return handled

    def _refresh_in_hand(self) -> None:
        """Reset the idle time of the entries in hand that this consumer still owns."""
        with self._in_hand_lock:
            in_hand = list(self._in_hand)
        if not in_hand:
            return
        with self._client.pipeline(transaction=False) as pipe:
            for entry_id in in_hand:
                pipe.xpending_range(
                    self._stream, self.group, min=entry_id, max=entry_id, count=1,
                    consumername=self.name,
                )  # fmt: skip
            found = pipe.execute()
        owned: list[Any] = [entry_id for entry_id, row in zip(in_hand, found, strict=True) if row]
        if owned:
            self._client.xclaim(
                self._stream, self.group, self.name, 0, message_ids=owned, justid=True
            )

    def _within_delivery_limit(self, entries: list[Any], delivered: dict[str, int]) -> list[Any]:
        """Dead-letter the entries delivered more than ``max_deliveries`` times, never acknowledged.

        Such an entry most likely takes the consumer down with it (a crash, an out-of-memory
        kill) each time it is handled: applying it again would only restart the cycle.
        """
        kept = []
        for entry_id, fields in entries:
            times = delivered.get(_text(entry_id), 0) + 1  # this claim was one more delivery
            raw = fields.get(b"message", fields.get("message"))
            if times <= self._max_deliveries or (
                # An outage, not the entry, kept it pending; or it was applied: handled again,
                # it waits for the database or is found in the inbox and acknowledged.
                raw is not None and not self._consumer.suspect(raw, self._stream, _text(entry_id))
            ):
                kept.append((entry_id, fields))
                continue
            error = (
                f"DeliveryLimit: delivered {times} times and never acknowledged "
                "(it may take the consumer down with it)"
            )
            self._consumer.reject(raw if raw is not None else repr(fields), error, self._stream)
            self._client.xack(self._stream, self.group, entry_id)
        return kept

    def _handle_all(self, entries: list[Any], stop: threading.Event) -> int:
        handled = 0
        for entry_id, fields in entries:
            if stop.is_set():
                break  # the rest stay pending and are reclaimed later
            self.handle(_text(entry_id), fields, stop)
            handled += 1
        return handled

    def handle(self, entry_id: str, fields: dict[Any, Any], stop: threading.Event) -> None:
        """Hand one entry to the sink; it is acknowledged once it was applied or dead-lettered."""
        raw = fields.get(b"message", fields.get("message"))
        if raw is None:
            keys = ", ".join(sorted(_text(k) for k in fields))
            error = f"MessageError: stream entry has no 'message' field (fields: {keys})"
            self._consumer.reject(repr(fields), error, self._stream)
            self._client.xack(self._stream, self.group, entry_id)
            return
        with self._in_hand_lock:
            self._in_hand.add(entry_id)

        def acknowledge(settled: bool) -> None:
            try:
                if settled:
                    self._client.xack(self._stream, self.group, entry_id)
                elif stop.is_set():
                    self._forgive(entry_id)
            finally:
                with self._in_hand_lock:
                    self._in_hand.discard(entry_id)

        self._consumer.submit(raw, self._stream, stream_entry=entry_id, done=acknowledge, stop=stop)

    def _forgive(self, entry_id: str) -> None:
        """Count an entry left pending at a stop (an outage, a shutdown) as delivered once.

        Those deliveries were not the entry's fault: however often the consumer is stopped
        during an outage, the entry never reaches the delivery limit for it.
        """
        owned = self._client.xpending_range(
            self._stream, self.group, min=entry_id, max=entry_id, count=1, consumername=self.name
        )
        if owned:
            self._client.xclaim(
                self._stream, self.group, self.name, 0, message_ids=[entry_id],
                justid=True, retrycount=1,
            )  # fmt: skip

    @property
    def in_hand(self) -> int:
        """Entries handed to the sink and not acknowledged yet."""
        with self._in_hand_lock:
            return len(self._in_hand)
