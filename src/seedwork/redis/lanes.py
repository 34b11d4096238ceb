"""Bounded parallelism for the command consumer: N lanes, one aggregate's messages on one lane.

A listener hands each message to ``Lanes.submit``: it is read there (one that cannot be read
is dead-lettered at once), its key picks a lane (``key(envelope)``, e.g. the batch reference
or the order id; no key → lane 0), and the lane's thread applies it. Messages with one key
are applied one after the other in the order they were submitted; different keys run side
by side, and the bus's optimistic-lock retries settle what they share. Each lane holds at
most ``depth`` waiting messages; a full lane makes ``submit`` wait (back-pressure on Redis).
``done`` (a stream's acknowledgement) is called after the command committed or was
dead-lettered, never before. Once ``stop`` is set, a lane finishes the message in hand and
the waiting pub/sub messages (they cannot be had again) but leaves waiting stream entries
unacknowledged, to be re-delivered. ``close`` waits until every lane is done.
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable, Hashable
from typing import Unpack

import attrs

from seedwork.core import context
from seedwork.core.errors import MessageError
from seedwork.core.failures import CORE
from seedwork.core.messages import Envelope
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.sinks import Handover

log = logging.getLogger("seedwork.redis.consumer")

#: A message's partition key: same key, same lane, same order. None: the fixed lane 0.
KeyOf = Callable[[Envelope], Hashable | None]


def key_fields(*names: str) -> KeyOf:
    """Key a command by the first of these fields it has (e.g. ``reference``, ``order_id``)."""

    def key(envelope: Envelope) -> Hashable | None:
        for name in names:
            value = getattr(envelope.message, name, None)
            if value is not None:
                return str(value)
        return None

    return key


@attrs.frozen
class _Job:
    envelope: Envelope
    raw: str | bytes
    channel: str | bytes
    done: Callable[[bool], None] | None
    redelivered_if_left: bool


class Lanes:
    """Worker threads applying messages in parallel, in order per key."""

    def __init__(
        self,
        consumer: CommandConsumer,
        *,
        workers: int = 4,
        depth: int = 32,
        key: KeyOf | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.consumer = consumer
        self.workers = workers
        self._key = key or (lambda _: None)
        self._queues: list[queue.Queue[_Job | None]] = [
            queue.Queue(maxsize=depth) for _ in range(workers)
        ]
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def start(self, stop: threading.Event) -> Lanes:
        """Start the lane threads; ``stop`` is the listeners' stop event."""
        self._stop = stop
        for number, lane in enumerate(self._queues):
            thread = threading.Thread(
                target=self._work, args=(lane,), name=f"consumer-lane-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        log.info("consumer lanes started workers=%d", self.workers)
        return self

    def submit(self, raw: str | bytes, channel: str | bytes, **handover: Unpack[Handover]) -> None:
        """Queue a message on the lane of its key (waits while that lane is full)."""
        stream_entry, done = handover.get("stream_entry"), handover.get("done")
        try:
            envelope = self.consumer.read(raw, channel, stream_entry)
            lane = self.lane_of(envelope)
        except Exception as error:  # noqa: BLE001 - whatever a message does, the listener lives
            reason = CORE.describe(error) if isinstance(error, MessageError) else repr(error)
            self.consumer.reject(raw, reason, channel)
            if done is not None:
                done(True)
            return
        job = _Job(envelope, raw, channel, done, redelivered_if_left=stream_entry is not None)
        self._queues[lane].put(job)

    def reject(self, raw: str | bytes, error: str, channel: str | bytes) -> None:
        """Dead-letter a message with the reason (the consumer's dead-letter stream)."""
        self.consumer.reject(raw, error, channel)

    def suspect(self, raw: str | bytes, channel: str | bytes, stream_entry: str) -> bool:
        """Whether an entry delivered too often may be to blame (see the consumer)."""
        return self.consumer.suspect(raw, channel, stream_entry)

    def lane_of(self, envelope: Envelope) -> int:
        """The lane a command goes to."""
        key = self._key(envelope)
        if key is None or self.workers == 1:
            return 0
        return zlib.crc32(str(key).encode("utf-8", "surrogatepass")) % self.workers

    def close(self, timeout: float | None = None) -> None:
        """Let every lane finish (see the module's note on stopping) and end its thread."""
        for lane in self._queues:
            lane.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        log.info("consumer lanes stopped")

    def _work(self, lane: queue.Queue[_Job | None]) -> None:
        while (job := lane.get()) is not None:
            if self._stop.is_set() and job.redelivered_if_left:
                self._finish(job, settled=False)  # left pending: re-delivered after a restart
                continue
            try:
                # Messages waiting behind this one: its events may go out with theirs, from
                # the relay's own thread, rather than in a round of their own on this one.
                with context.following(not lane.empty()):
                    outcome = self.consumer.run(job.envelope, self._stop)
                outcome = self.consumer.settle(
                    outcome, job.raw, job.channel, redelivered=job.redelivered_if_left
                )
            except BaseException:  # a lane never dies; an unacknowledged entry comes back
                log.exception(
                    "consumer could not settle a message channel=%s message=%.200r",
                    job.channel,
                    job.raw,
                )
                self._finish(job, settled=False)
                continue
            # Pending (stopped during an outage): a stream entry stays unacknowledged.
            self._finish(job, settled=not outcome.pending)

    @staticmethod
    def _finish(job: _Job, *, settled: bool) -> None:
        if job.done is None:
            return
        try:
            job.done(settled)
        except Exception:
            log.exception("consumer could not acknowledge a message")
