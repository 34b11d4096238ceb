"""The outbox relay: publishes committed events to Redis, in order, and marks them sent.

The loop lives here; how a batch is claimed and marked is the dialect's
(``seedwork.sqlalchemy.relay_claim.Claim``, picked once per relay by ``claim_for``:
``relay_postgresql`` or ``relay_sqlite``). Rows are claimed oldest first, and ``published_at``
is set only on rows that were published. Events that are not integration events are marked sent
without going out: ``published_at`` means "the relay is done with it", and the unpublished index
stays small.

How events leave. Every event is written to the outbox in its command's transaction; only a
relay round (``relay_once``, under the relay's lock and, on PostgreSQL, the relays' turn) takes
it from there to Redis, so whichever route starts the round, no event is lost or sent twice.
Three things start rounds:

1. The loop, ``run``: a round at start, then one at each wake (``notify``) or else every
   ``poll_interval``. Every process that relays runs it: ``shop run`` in a thread
   (``shop.entrypoints.workers.start_workers``), ``shop relay`` alone (``run_relay_loop``). The
   poll alone is enough for correctness; the two routes below only save latency.
2. Inline, in the process that committed (``shop run``): once a message and its reactions ran,
   the bus's settled hook calls ``publish_or_wake`` on the handling thread with all their
   commits' events, which runs one round right there unless the relay is busy (no thread
   hand-over, no wait for a poll, no round between a commit and its reactions:
   ``bench/redis_roundtrip.py`` measures it) and wakes the loop otherwise, or when more
   messages follow at once on that thread (a consumer lane's backlog: the loop then publishes
   them in batches beside it). Registered by ``start_workers`` on ``Shop.on_commit``.
3. Across processes (PostgreSQL): units of work built with ``wake_relays`` (``bootstrap(...,
   wake_relays=True)``: ``shop api``, ``shop consumer``) send a NOTIFY as a named part of the
   outbox write (``commit_listener.wake_relays``, delivered at commit, never on rollback); a
   relay built with ``listen`` (``shop relay``) LISTENs (``commit_listener.CommitListener``)
   and calls ``notify``. ``shop run`` does not NOTIFY: its relay is in-process (route 2), and
   NOTIFY serialises concurrent commits a little.

A failed publish records ``attempts`` and ``last_error`` on the batch's rows (``shop outbox
status`` counts them as failed) and the loop backs off (tenacity, jittered exponential) before
the next try; ``try_relay`` stays off for ``max_backoff`` meanwhile. The outbox's
``next_attempt_at`` column is no longer written, nor read: a batch fails as a whole (one
pipeline to Redis, whose outage it means), and honouring a per-row time would let newer rows
overtake a failed older one, breaking the per-aggregate order; the loop's backoff is the one
schedule. The column stays in the table (migration 0001) so a previous release running beside
this one during an upgrade still writes it without error; it is NULL in every new row.

(Over 250 lines because of this docstring, the one place that tells how events leave.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, Row, Table, update
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.core import context
from seedwork.core.retry import sleeper
from seedwork.sqlalchemy.relay_claim import Claim, PublishFailed
from seedwork.sqlalchemy.relay_postgresql import PostgresqlClaim
from seedwork.sqlalchemy.relay_sqlite import SqliteClaim

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics
    from seedwork.observability.tracing import Tracing

__all__ = ["OutboxRelay", "PublishFailed", "Publisher", "claim_for"]

log = logging.getLogger("seedwork.sqlalchemy.relay")

_CLAIMS: dict[str, Callable[[Engine, Table, int], Claim]] = {
    "postgresql": PostgresqlClaim,
    "sqlite": SqliteClaim,
}


def claim_for(engine: Engine, outbox: Table, batch_size: int) -> Claim:
    """The claim of ``engine``'s dialect on ``outbox``."""
    try:
        make = _CLAIMS[engine.dialect.name]
    except KeyError:
        raise ValueError(f"the outbox relay does not support {engine.dialect.name}") from None
    return make(engine, outbox, batch_size)


class Publisher(Protocol):
    """Sends (channel, envelope text) pairs, all or nothing as far as the caller knows."""

    def publish_batch(self, messages: list[tuple[str, str]]) -> None:
        """Send every message in order; raise if any could not be sent."""


class OutboxRelay:
    """Moves committed outbox rows to a publisher, batch by batch."""

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        publisher: Publisher,
        channel_of: Callable[[str], str],
        integration_events: Collection[str],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        gather: float = 0.02,
        max_backoff: float = 5.0,
        listen: bool = False,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._metrics = metrics
        self._tracing = tracing
        self._engine = engine
        self._outbox = outbox
        self._publisher = publisher
        self._channel_of = channel_of
        self._integration = frozenset(integration_events)
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._gather = gather
        self._gathering = False  # woken by a thread with more messages to follow
        self._max_backoff = max_backoff
        self._claim = claim_for(engine, outbox, batch_size)
        # Woken by other processes' commits (PostgreSQL NOTIFY), not only by the poll.
        self._listener = self._claim.listener(self.notify) if listen else None
        self._wake = threading.Event()
        self._busy = threading.Lock()
        self._stopped = False
        self._inline_paused_until = 0.0
        self._rounds = 0

    @property
    def rounds(self) -> int:
        """How many times ``run`` drained the outbox so far: each round starts at a wake or at
        the poll, so a watcher (a test) knows when the relay has caught up and is waiting."""
        return self._rounds

    def notify(self, *_: Any) -> None:
        """Wake the relay loop now (events were just committed)."""
        self._wake.set()

    def publish_or_wake(self, *_: Any) -> None:
        """Route 2 (see the module): relay now on this thread if the relay is free (a commit
        hook: it never raises), else wake the loop, which relays as soon as it can.

        When more messages follow at once on this thread (``seedwork.core.context``: a consumer
        lane with a backlog), the loop is woken instead: it gathers commits for ``gather``
        seconds and publishes their events in one batch, on its own thread, while this one goes
        on with the next messages (a round per commit cost a millisecond of CPU each, under the
        same interpreter lock as the consumer's). The last message of a backlog is not followed:
        its events, and any still gathered, go out inline at once."""
        if context.more_follow():
            self._gathering = True
            self.notify()
        elif not self.try_relay():
            self.notify()

    def relay_once(self) -> int:
        """Claim, publish and mark one batch; returns how many rows it handled."""
        with self._busy:
            return self._relay(wait=True) or 0

    def try_relay(self) -> bool:
        """Relay one batch now unless another thread is at it; never raises (False: not done)."""
        # After a failure (Redis down, say) callers stop trying for a while: a request must
        # not pay a connection timeout per commit; the relay loop retries with backoff.
        if time.monotonic() < self._inline_paused_until:
            return False
        if self._stopped or not self._busy.acquire(blocking=False):
            return False
        try:
            handled = self._relay(wait=False)
        except Exception as error:  # noqa: BLE001 - the relay loop retries with backoff
            self._inline_paused_until = time.monotonic() + self._max_backoff
            log.warning("relay inline publish failed, the relay loop retries error=%s", error)
            return False
        finally:
            self._busy.release()
        return handled is not None and handled < self._batch_size

    def _relay(self, *, wait: bool) -> int | None:
        try:
            return self._claim.relay(self._publish, wait=wait)
        except PublishFailed as failed:
            # Recorded once the claim was undone: on PostgreSQL it held the rows' locks.
            self._record_failure(failed.ids, failed.__cause__ or failed)
            raise

    def close(self) -> None:
        """Give the relay's own connection back; ``try_relay`` does nothing from now on."""
        with self._busy:
            self._stopped = True
            self._claim.close()

    def _publish(self, rows: Sequence[Row[Any]]) -> None:
        """Send the integration events among ``rows``; ``PublishFailed`` unless all went out."""
        messages = [
            (self._channel_of(row.type), row.envelope)
            for row in rows
            if row.type in self._integration
        ]
        if not messages:
            return
        spans = [] if self._tracing is None else self._tracing.publish_spans(messages)
        try:
            self._publisher.publish_batch(messages)
        except Exception as error:
            if self._tracing is not None:
                self._tracing.end(spans, error)
            raise PublishFailed(
                f"{type(error).__name__}: {error}", [row.id for row in rows]
            ) from error
        if self._tracing is not None:
            self._tracing.end(spans)
        if self._metrics is not None:
            self._metrics.published(row.type for row in rows if row.type in self._integration)

    def drain(self) -> int:
        """Relay batches until the outbox has nothing unsent, then close; returns the rows."""
        try:
            return self._drain(through_gaps=True)
        finally:
            self.close()

    def _drain(self, *, through_gaps: bool = False) -> int:
        total = 0
        while True:
            handled = self.relay_once()
            total += handled
            if handled < self._batch_size:  # a short batch: nothing more was committed yet
                if through_gaps and self._claim.held:
                    time.sleep(0.05)  # an older row is held: wait for it, do not skip it
                    continue
                return total

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set: drain, then wait for a notification or the poll interval."""
        log.info(
            "relay started batch_size=%d poll_interval=%.2fs", self._batch_size, self._poll_interval
        )
        listener = None
        if self._listener is not None:
            listener = threading.Thread(
                target=self._listener, args=(stop,), name="relay-listener", daemon=True
            )
            listener.start()
        while not stop.is_set():
            try:
                self._drain_with_backoff(stop)
            except Exception:  # noqa: BLE001 - only escapes once stopped while backing off
                break
            self._rounds += 1
            # A wake during the drain returns at once; one cleared here is the next drain's.
            self._wake.wait(self._poll_interval)
            self._wake.clear()
            if self._gathering:
                # Woken by a thread working through a backlog: more commits come within
                # milliseconds; one round for all of them costs a fraction of one each.
                self._gathering = False
                stop.wait(self._gather)
                self._wake.clear()  # the wakes meanwhile: their commits are in this drain
        self.close()
        if listener is not None:
            listener.join(timeout=5)
        log.info("relay stopped")

    def _drain_with_backoff(self, stop: threading.Event) -> None:
        def note(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "relay failed, retrying attempt=%d wait=%.2fs error=%s",
                state.attempt_number,
                wait,
                error,
            )

        retrying = Retrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_random_exponential(multiplier=0.05, max=self._max_backoff),
            stop=stop_when_event_set(stop),
            sleep=sleeper(stop),
            before_sleep=note,
            reraise=True,
        )
        retrying(self._drain)

    def _record_failure(self, ids: list[int], error: BaseException) -> None:
        outbox = self._outbox
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(ids), outbox.c.published_at.is_(None))
                    .values(
                        attempts=outbox.c.attempts + 1,
                        last_error=f"{type(error).__name__}: {error}"[:2000],
                    )
                )
        except Exception:
            log.exception("could not record the publish failure")
