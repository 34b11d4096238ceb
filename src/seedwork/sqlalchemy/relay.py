"""The outbox relay: publishes committed events to Redis, in order, and marks them sent.

Rows are claimed oldest first. On PostgreSQL one transaction of three round trips on the
relay's own connection does it all: take a turn on a transaction-scoped advisory lock (two
batches published side by side could overtake each other and break the contract's
per-aggregate order; one relay publishes far faster than the shop commits, so turns cost
nothing and the others are hot standbys); claim and mark the batch in one ``UPDATE ... WHERE
id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``; publish; commit. A failed pipeline
rolls the marks back, so nothing is marked sent (``published_at``) that was not published.
SQLite serialises writers, so a plain ordered select is claim enough there, and the mark
follows the publish in a second transaction. Events that are not integration events are
marked sent without going out: ``published_at`` means "the relay is done with it", and the
unpublished index stays small. ``try_relay`` lets a committing thread publish its own events
at once, when the relay is not busy (saves a thread hand-over); with ``listen``, a relay in
another process is woken by the commits' NOTIFY (``seedwork.sqlalchemy.commit_listener``).

A failed publish records ``attempts``/``last_error``/``next_attempt_at`` on the claimed rows and
the loop backs off (tenacity, jittered exponential) before the next try.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine, Row, Table, update
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.core.messages import utcnow
from seedwork.core.retry import sleeper
from seedwork.sqlalchemy.commit_listener import CommitListener
from seedwork.sqlalchemy.relay_postgresql import OutboxStatements
from seedwork.sqlalchemy.tables import wake_channel

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics
    from seedwork.observability.tracing import Tracing

log = logging.getLogger("seedwork.sqlalchemy.relay")


class Publisher(Protocol):
    """Sends (channel, envelope text) pairs, all or nothing as far as the caller knows."""

    def publish_batch(self, messages: list[tuple[str, str]]) -> None:
        """Send every message in order; raise if any could not be sent."""


class _Gap(Exception):
    """The claim skipped an older unsent row that another transaction holds."""


class PublishFailed(Exception):
    """A batch could not be published; its rows stay unsent."""


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
        self._max_backoff = max_backoff
        self._lock_rows = engine.dialect.name != "sqlite"
        # Woken by other processes' commits (PostgreSQL NOTIFY), not only by the poll.
        self._listen = listen and engine.dialect.name == "postgresql"
        self._wake = threading.Event()
        self._busy = threading.Lock()
        self._connection: Connection | None = None
        self._stopped = False
        self._inline_paused_until = 0.0
        statements = OutboxStatements.build(outbox, batch_size)
        self._take_turn = statements.take_turn
        self._read_unsent = statements.read_unsent
        self._claim_and_mark = statements.claim_and_mark
        self._gaps = 0  # claims in a row that found an older unsent row held

    def notify(self, *_: Any) -> None:
        """Wake the relay loop now (events were just committed)."""
        self._wake.set()

    def relay_once(self) -> int:
        """Claim, publish and mark one batch; returns how many rows it handled."""
        with self._busy:
            if self._lock_rows:
                return self._relay_claimed() or 0
            return self._relay_read()

    def try_relay(self) -> bool:
        """Relay one batch now unless another thread is at it; never raises (False: not done)."""
        # After a failure (Redis down, say) callers stop trying for a while: a request must
        # not pay a connection timeout per commit; the relay loop retries with backoff.
        if time.monotonic() < self._inline_paused_until:
            return False
        if self._stopped or not self._busy.acquire(blocking=False):
            return False
        try:
            handled = self._relay_claimed(wait=False) if self._lock_rows else self._relay_read()
        except Exception as error:  # noqa: BLE001 - the relay loop retries with backoff
            self._inline_paused_until = time.monotonic() + self._max_backoff
            log.warning("relay inline publish failed, the relay loop retries error=%s", error)
            return False
        finally:
            self._busy.release()
        return handled is not None and handled < self._batch_size

    def _relay_claimed(self, *, wait: bool = True) -> int | None:
        # One transaction, three round trips: take the turn; claim and mark the batch in one
        # UPDATE ... RETURNING; commit only once the pipeline succeeded (else roll back).
        # None when another relay has the turn (without ``wait``) or a gap was found.
        rows: list[Row[Any]] = []
        connection = self._own_connection()
        try:
            with connection.begin():
                if not connection.execute(self._take_turn[wait]).scalar():
                    return None
                rows = sorted(connection.execute(self._claim_and_mark).all(), key=_row_id)
                if rows and rows[0].held is not None:
                    raise _Gap(rows[0].held)
                self._publish(rows)
        except _Gap as gap:
            # Rolled back. Such a row is held for milliseconds; the next try will likely pass.
            self._gaps += 1
            level = logging.WARNING if self._gaps % 10 == 0 else logging.INFO
            log.log(level, "relay waits for unsent row id=%s held by another transaction", gap)
            return None
        except PublishFailed as failed:
            # Recorded after the claim's transaction was rolled back: it held the rows' locks.
            self._record_failure([row.id for row in rows], failed.__cause__ or failed)
            raise
        except Exception:
            self._drop_connection()
            raise
        self._gaps = 0
        return len(rows)

    def _relay_read(self) -> int:
        # SQLite: read, publish and mark in separate short transactions, so writers are
        # never blocked while Redis is slow; at worst a row goes out twice.
        with self._engine.begin() as connection:
            rows = connection.execute(self._read_unsent).all()
        try:
            self._publish(rows)
        except PublishFailed as failed:
            self._record_failure([row.id for row in rows], failed.__cause__ or failed)
            raise
        if rows:
            outbox = self._outbox
            with self._engine.begin() as connection:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(published_at=utcnow())
                )
        return len(rows)

    def _own_connection(self) -> Connection:
        """The relay's own connection, kept between batches (no pool checkout, no ping)."""
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # it is being thrown away anyway
                log.debug("relay connection did not close cleanly", exc_info=True)

    def close(self) -> None:
        """Give the relay's own connection back; ``try_relay`` does nothing from now on."""
        with self._busy:
            self._stopped = True
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

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
            raise PublishFailed(f"{type(error).__name__}: {error}") from error
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
                if through_gaps and self._gaps:
                    time.sleep(0.05)  # an older row is held: wait for it, do not skip it
                    continue
                return total

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set: drain, then wait for a notification or the poll interval."""
        log.info(
            "relay started batch_size=%d poll_interval=%.2fs", self._batch_size, self._poll_interval
        )
        listener = None
        if self._listen:
            commits = CommitListener(self._engine, wake_channel(self._outbox), self.notify)
            listener = threading.Thread(
                target=commits.run, args=(stop,), name="relay-listener", daemon=True
            )
            listener.start()
        while not stop.is_set():
            self._wake.clear()
            try:
                self._drain_with_backoff(stop)
            except Exception:  # noqa: BLE001 - only escapes once stopped while backing off
                break
            self._wake.wait(self._poll_interval)
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
                        next_attempt_at=utcnow() + timedelta(seconds=self._poll_interval),
                    )
                )
        except Exception:
            log.exception("could not record the publish failure")


def _row_id(row: Row[Any]) -> int:
    return int(row.id)
