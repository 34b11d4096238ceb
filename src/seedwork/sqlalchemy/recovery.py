"""The recovery sweep: committed events whose in-process handlers never ran are dispatched.

A process can die after a commit and before (or while) it dispatched the events to their
handlers. The request path never spends a write on noting that handlers ran: the inbox
already says so. The sweep takes outbox rows older than a grace period (younger ones are
probably being handled right now) whose ``handled_at`` is NULL, re-dispatches those that some
handler has no inbox row for, and marks the whole batch handled in one statement. Event
handlers de-duplicate through the inbox, so a second dispatch changes nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import Engine, Table, select, update

from seedwork.core.bus import MessageBus
from seedwork.core.errors import MessageError
from seedwork.core.messages import Envelope, utcnow
from seedwork.core.serialization import Serializer

log = logging.getLogger("seedwork.sqlalchemy.recovery")


class RecoverySweep:
    """Finds unhandled committed events and dispatches them again."""

    def __init__(
        self,
        engine: Engine,
        outbox: Table,
        serializer: Serializer,
        bus: MessageBus,
        *,
        grace: float = 3.0,
        interval: float = 3.0,
        batch_size: int = 500,
        inbox: Table | None = None,
    ) -> None:
        self._engine = engine
        self._outbox = outbox
        self._serializer = serializer
        self._bus = bus
        self._grace = grace
        self._interval = interval
        self._batch_size = batch_size
        self._inbox = inbox

    def _sweep_batch(self, grace: float | None) -> tuple[int, int]:
        """(rows looked at and marked handled, events dispatched) for one batch."""
        outbox = self._outbox
        cutoff = utcnow() - timedelta(seconds=self._grace if grace is None else grace)
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.id, outbox.c.message_id, outbox.c.envelope)
                .where(outbox.c.handled_at.is_(None), outbox.c.occurred_at <= cutoff)
                .order_by(outbox.c.id)
                .limit(self._batch_size)
            ).all()
        envelopes: list[Envelope] = []
        for row in rows:
            try:
                envelopes.append(self._serializer.loads(row.envelope))
            except MessageError as error:
                log.error(
                    "recovery cannot read event message_id=%s error=%s", row.message_id, error
                )
        envelopes = self._unhandled(envelopes)
        if envelopes:
            log.info("recovery dispatching events=%d", len(envelopes))
            self._bus.dispatch_events(envelopes)
        if rows:
            with self._engine.begin() as connection:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]), outbox.c.handled_at.is_(None))
                    .values(handled_at=utcnow())
                )
        return len(rows), len(envelopes)

    def _unhandled(self, envelopes: list[Envelope]) -> list[Envelope]:
        """The envelopes some handler of which has no inbox row (without an inbox: all)."""
        if self._inbox is None or not envelopes:
            return envelopes
        inbox = self._inbox
        with self._engine.connect() as connection:
            done = set(
                connection.execute(
                    select(inbox.c.message_id, inbox.c.handler).where(
                        inbox.c.message_id.in_([e.message_id for e in envelopes])
                    )
                ).tuples()
            )
        return [
            envelope
            for envelope in envelopes
            if any(
                (envelope.message_id, name) not in done
                for name in self._bus.event_handler_names(type(envelope.message))
            )
        ]

    def sweep(self, grace: float | None = None) -> int:
        """Sweep until nothing old enough is left unmarked; returns how many were dispatched."""
        total = 0
        while True:
            looked_at, dispatched = self._sweep_batch(grace)
            total += dispatched
            if not looked_at:
                return total

    def run(self, stop: threading.Event) -> None:
        """Sweep now and then every ``interval`` seconds until stopped."""
        while not stop.is_set():
            try:
                self.sweep()
            except Exception:
                log.exception("recovery sweep failed")
            stop.wait(self._interval)
        log.info("recovery stopped")
