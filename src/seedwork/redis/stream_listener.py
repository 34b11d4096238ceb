"""Where commands come from: the pub/sub command channels and the durable commands stream.

Each listener hands messages to a sink: a ``CommandConsumer`` (applied there and then) or
``Lanes`` (applied by worker threads, in order per aggregate), as the bytes came (message and
channel name): reading them is the sink's, in one place that turns any bytes into a command or
a dead letter (``seedwork.redis.reader``). A listener runs until its ``stop`` event is set
and reconnects with backoff when Redis goes away; whatever else makes it fail is its
supervisor's to restart (``seedwork.core.supervision``). The channels' listener is
``ChannelListener`` (``seedwork.redis.channel_listener``); the stream's is here, with the
consumer group's pending entries kept in ``seedwork.redis.stream_pending``.

Stream entries are read with XREADGROUP and acknowledged (``done``) only after the command
committed or was dead-lettered. Entries left pending by a consumer that died are reclaimed
(XPENDING then XCLAIM) once idle for ``claim_idle`` seconds, except those still in this
listener's own hands.
An entry that was already taken over once without being acknowledged is a suspect (it may take
its consumer down with it): suspects are claimed and settled one at a time, so a crashing entry
costs only itself, and one delivered more than ``max_deliveries`` times is dead-lettered,
unless the sink finds the database unreachable (an outage is no fault of the entry) or the
entry applied. An entry left pending when the listener stops counts as delivered once.
With ``keep`` set, the stream is trimmed to about that many entries, of acknowledged ones only.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from redis import Redis

from seedwork.redis.channels import Channels
from seedwork.redis.publisher import UNREACHABLE, await_redis
from seedwork.redis.sinks import Sink
from seedwork.redis.stream_pending import PendingEntries, consumer_name
from seedwork.redis.stream_pending import text_of as _text
from seedwork.redis.stream_trim import trim_acknowledged

log = logging.getLogger("seedwork.redis.consumer")


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
        suspect_wait: float = 30.0,
        keep: int | None = None,
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
        self._suspect_wait = suspect_wait
        self._keep = keep
        self.ready = threading.Event()
        self._pending = PendingEntries(client, self._stream, group, self.name)

    def run(self, stop: threading.Event) -> None:
        """Read, reclaim, trim and acknowledge until stopped."""
        try:
            while not stop.is_set():
                try:
                    self.ensure_group()
                    self.ready.set()
                    next_claim = 0.0
                    while not stop.is_set():
                        if time.monotonic() >= next_claim:
                            self.reclaim(stop)
                            self.trim()
                            next_claim = time.monotonic() + self._claim_interval
                        self.read_new(stop)
                except UNREACHABLE as error:
                    self.ready.clear()
                    log.warning("consumer lost redis source=stream error=%r", error)
                    if not await_redis(self._client, stop, "consumer-stream"):
                        break
        finally:
            self.ready.clear()
        log.info("consumer stopped source=stream name=%s", self.name)

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless they exist."""
        self._pending.create_group()

    def read_new(self, stop: threading.Event) -> int:
        """Read new entries (waiting up to ``block``) and handle them; returns how many."""
        response: Any = self._client.xreadgroup(
            self.group, self.name, {self._stream: ">"}, count=self._batch, block=self._block_ms
        )
        entries = response[0][1] if response else []
        handled = 0
        for entry_id, fields in entries:
            if stop.is_set():
                break  # the rest stay pending and are reclaimed later
            self.handle(_text(entry_id), fields, stop)
            handled += 1
        return handled

    def trim(self) -> int:
        """Drop acknowledged entries beyond ``keep`` (never one not acknowledged yet)."""
        if self._keep is None:
            return 0
        return trim_acknowledged(self._client, self._stream, self._keep)

    def reclaim(self, stop: threading.Event) -> int:
        """Take over entries another consumer left pending too long, and handle them.

        Candidates come from XPENDING (idle at least ``claim_idle``, paged by id), which also
        says how often each was delivered; entries this consumer still holds are left alone.
        Those delivered once are claimed together (XCLAIM counts one more delivery); suspects,
        delivered more often, one at a time, each handled before the next is claimed. Entries
        still in hand are first touched with XCLAIM JUSTID, which counts nothing, so entries
        queued in a live consumer's lanes never look abandoned.
        """
        self._pending.touch_in_hand()
        handled = 0
        page: str | None = "-"  # where the next page of XPENDING starts; None: no more
        while page is not None and not stop.is_set():
            page, delivered = self._pending.abandoned(page, self._batch, self._claim_idle_ms)
            fresh = [entry_id for entry_id, times in delivered.items() if times < 2]
            handled += self._take_over(fresh, delivered, stop)
            for suspect in (entry_id for entry_id, times in delivered.items() if times >= 2):
                if stop.is_set():
                    break
                handled += self._take_over([suspect], delivered, stop, settle=True)
        return handled

    def _take_over(
        self,
        ids: list[str],
        delivered: dict[str, int],
        stop: threading.Event,
        *,
        settle: bool = False,
    ) -> int:
        """Claim entries and handle them; ``settle``: wait until each was settled."""
        if not ids:
            return 0
        entries = self._pending.claim(ids, self._claim_idle_ms)
        if not entries:
            return 0
        log.info("consumer reclaimed entries=%d name=%s", len(entries), self.name)
        handled = 0
        for entry_id, fields in self._within_delivery_limit(entries, delivered):
            if stop.is_set():
                break
            settled = self.handle(_text(entry_id), fields, stop)
            handled += 1
            deadline = time.monotonic() + self._suspect_wait
            while settle and settled is not None and not stop.is_set():
                if settled.wait(0.05) or time.monotonic() > deadline:
                    break
        return handled

    def _within_delivery_limit(self, entries: list[Any], delivered: dict[str, int]) -> list[Any]:
        """Dead-letter the entries delivered more than ``max_deliveries`` times, never acknowledged.

        Such an entry most likely takes the consumer down with it (a crash, an out-of-memory
        kill) each time it is handled: applying it again would only restart the cycle.
        """
        kept = []
        for entry_id, fields in entries:
            times = delivered.get(_text(entry_id), 0) + 1  # this claim was one more delivery
            raw = _message(fields)
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
            self._pending.acknowledge(entry_id)
        return kept

    def handle(
        self, entry_id: str, fields: dict[Any, Any], stop: threading.Event
    ) -> threading.Event | None:
        """Hand one entry to the sink; it is acknowledged once it was applied or dead-lettered.

        Returns an event set once the sink settled it (None: settled here, or left pending).
        """
        raw = _message(fields)
        if raw is None:
            names = ", ".join(sorted(_text(name) for name in fields))
            error = f"MessageError: stream entry has no 'message' field (fields: {names})"
            self._consumer.reject(repr(fields), error, self._stream)
            self._pending.acknowledge(entry_id)
            return None
        self._pending.hold(entry_id)
        settled = threading.Event()

        def acknowledge(ok: bool) -> None:
            try:
                if ok:
                    self._pending.acknowledge(entry_id)
                elif stop.is_set():
                    self._pending.forgive(entry_id)
            finally:
                self._pending.release(entry_id)
                settled.set()

        try:
            self._consumer.submit(
                raw, self._stream, stream_entry=entry_id, done=acknowledge, stop=stop
            )
        except BaseException as error:
            self._pending.release(entry_id)
            if isinstance(error, UNREACHABLE) or not isinstance(error, Exception):
                raise
            log.exception("consumer failed on an entry, left pending entry=%s", entry_id)
            return None
        return settled

    @property
    def in_hand(self) -> int:
        """Entries handed to the sink and not acknowledged yet."""
        return len(self._pending)


def _message(fields: dict[Any, Any]) -> Any:
    """The entry's ``message`` field, or None."""
    return fields.get(b"message", fields.get("message"))
