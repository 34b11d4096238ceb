"""The outbox relay: publishes committed events to Redis, in order, and marks them sent.

Rows are claimed oldest first. On PostgreSQL the claim is ``FOR UPDATE SKIP LOCKED`` held
while the batch is published, so several relays never send a row twice; they also take turns
on a transaction-scoped advisory lock, because two batches published side by side could
overtake each other and break the contract's per-aggregate order (one relay publishes far
faster than the shop commits, so turns cost nothing; the others are hot standbys). SQLite
serialises writers, so a plain ordered select is claim enough there. A row is marked
sent (``published_at``) only after the whole pipeline succeeded. Events that are not
integration events are marked sent in the same update without going out: ``published_at``
means "the relay is done with it", and the unpublished index stays small.

A failed publish records ``attempts``/``last_error``/``next_attempt_at`` on the claimed rows and
the loop backs off (tenacity, jittered exponential) before the next try.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any, Protocol

import attrs
from sqlalchemy import Connection, Engine, Row, Table, func, select, update
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.messages import utcnow
from seedwork.redis_streams import Channels, sleeper

log = logging.getLogger("seedwork.relay")


class Publisher(Protocol):
    """Sends (channel, envelope text) pairs, all or nothing as far as the caller knows."""

    def publish_batch(self, messages: list[tuple[str, str]]) -> None:
        """Send every message in order; raise if any could not be sent."""


class PublishFailed(Exception):
    """A batch could not be published; its rows stay unsent."""


class OutboxRelay:
    """Moves committed outbox rows to a publisher, batch by batch."""

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        publisher: Publisher,
        channels: Channels,
        integration_events: Collection[str],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._publisher = publisher
        self._channels = channels
        self._integration = frozenset(integration_events)
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._lock_rows = engine.dialect.name != "sqlite"
        self._turn = zlib.crc32(f"seedwork.relay:{outbox.fullname}".encode())
        self._wake = threading.Event()

    def notify(self, *_: Any) -> None:
        """Wake the relay loop now (events were just committed)."""
        self._wake.set()

    def relay_once(self) -> int:
        """Claim, publish and mark one batch; returns how many rows it handled."""
        outbox = self._outbox
        claim = (
            select(outbox.c.id, outbox.c.type, outbox.c.envelope)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(self._batch_size)
        )
        if self._lock_rows:
            claim = claim.with_for_update(skip_locked=True)
        rows: Sequence[Row[Any]] = ()
        try:
            if self._lock_rows:
                with self._engine.begin() as connection:
                    connection.execute(select(func.pg_advisory_xact_lock(self._turn)))
                    rows = connection.execute(claim).all()
                    if rows:
                        self._publish(rows)
                        self._mark_sent(connection, rows)
            else:
                # SQLite: read, publish and mark in separate short transactions, so writers are
                # never blocked while Redis is slow; at worst a row goes out twice.
                with self._engine.begin() as connection:
                    rows = connection.execute(claim).all()
                if rows:
                    self._publish(rows)
                    with self._engine.begin() as connection:
                        self._mark_sent(connection, rows)
        except PublishFailed as failed:
            # Recorded after the claim's transaction ended: it holds the rows' locks.
            self._record_failure([row.id for row in rows], failed.__cause__ or failed)
            raise
        return len(rows)

    def _publish(self, rows: Sequence[Row[Any]]) -> None:
        messages = [
            (self._channels.event_channel(row.type), row.envelope)
            for row in rows
            if row.type in self._integration
        ]
        if not messages:
            return
        try:
            self._publisher.publish_batch(messages)
        except Exception as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error

    def _mark_sent(self, connection: Connection, rows: Sequence[Row[Any]]) -> None:
        outbox = self._outbox
        connection.execute(
            update(outbox)
            .where(outbox.c.id.in_([row.id for row in rows]))
            .values(published_at=utcnow())
        )

    def drain(self) -> int:
        """Relay batches until the outbox has nothing unsent; returns the rows handled."""
        total = 0
        while handled := self.relay_once():
            total += handled
        return total

    def run(self, stop: threading.Event) -> None:
        """Relay until ``stop`` is set: drain, then wait for a notification or the poll interval."""
        log.info(
            "relay started batch_size=%d poll_interval=%.2fs", self._batch_size, self._poll_interval
        )
        while not stop.is_set():
            self._wake.clear()
            try:
                self._drain_with_backoff(stop)
            except Exception:  # noqa: BLE001 - only escapes once stopped while backing off
                break
            self._wake.wait(self._poll_interval)
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
        retrying(self.drain)

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


@attrs.frozen
class OutboxStatus:
    """How far behind the relay is."""

    pending: int
    failed: int
    oldest_pending_age: float | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return attrs.asdict(self)


def outbox_status(engine: Engine, outbox: Table) -> OutboxStatus:
    """Pending rows, failed rows (attempted and still unsent), and the oldest pending age."""
    unsent = outbox.c.published_at.is_(None)
    with engine.connect() as connection:
        pending, oldest = connection.execute(
            select(func.count(), func.min(outbox.c.occurred_at)).where(unsent)
        ).one()
        failed = connection.execute(
            select(func.count()).where(unsent, outbox.c.attempts > 0)
        ).scalar_one()
    age = None
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite gives naive datetimes back
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        age = max(0.0, (utcnow() - oldest).total_seconds())
    return OutboxStatus(pending=int(pending), failed=int(failed), oldest_pending_age=age)
