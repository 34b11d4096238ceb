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
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    Engine,
    Row,
    Table,
    any_,
    bindparam,
    select,
    update,
)

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
        """(rows looked at and marked handled, events dispatched) for one batch.

        Whether an event's handlers ran is decided from its row's type and the inbox; only
        the envelopes of events some handler missed are read (a sweep looks at every event
        the process commits: reading each envelope cost more than handling it)."""
        outbox = self._outbox
        cutoff = utcnow() - timedelta(seconds=self._grace if grace is None else grace)
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.id, outbox.c.message_id, outbox.c.type, outbox.c.version)
                .where(outbox.c.handled_at.is_(None), outbox.c.occurred_at <= cutoff)
                .order_by(outbox.c.id)
                .limit(self._batch_size)
            ).all()
            missed = self._missed(connection, rows)
            envelopes = self._envelopes(connection, missed)
        if envelopes:
            log.info("recovery dispatching events=%d", len(envelopes))
            self._bus.dispatch_events(envelopes)
        if rows:
            with self._engine.begin() as connection:
                self._mark_handled(connection, [row.id for row in rows])
        return len(rows), len(envelopes)

    def _mark_handled(self, connection: Connection, ids: list[int]) -> None:
        """Set ``handled_at`` on the rows ``ids`` that have none: on PostgreSQL with the ids as
        one array parameter (an ``IN`` of 500 parameters cost more to build and parse than
        the sweep's other work)."""
        outbox = self._outbox
        if connection.dialect.name == "postgresql":
            chosen = outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
            parameters: dict[str, Any] = {"ids": ids}
        else:
            chosen, parameters = outbox.c.id.in_(ids), {}
        connection.execute(
            update(outbox)
            .where(chosen, outbox.c.handled_at.is_(None))
            .values(handled_at=bindparam("now")),
            {**parameters, "now": utcnow()},
        )

    def _missed(self, connection: Connection, rows: Sequence[Row[Any]]) -> list[int]:
        """The ids of the rows some handler of whose event has no inbox row (without an
        inbox: every row with a handler); rows of a type no longer known too, to be reported."""
        handlers: dict[int, tuple[str, tuple[str, ...]]] = {}
        missed: list[int] = []
        for row in rows:
            try:
                event_type = self._serializer.registry.get(row.type, row.version)
            except MessageError:
                missed.append(row.id)  # reading it reports why it cannot be dispatched
                continue
            names = self._bus.event_handler_names(event_type)
            if names:
                handlers[row.id] = (row.message_id, names)
        if self._inbox is None or not handlers:
            return missed + list(handlers)
        inbox = self._inbox
        message_ids = [message_id for message_id, _ in handlers.values()]
        done = set(
            connection.execute(
                select(inbox.c.message_id, inbox.c.handler).where(
                    inbox.c.message_id.in_(message_ids)
                )
            ).tuples()
        )
        for id_, (message_id, names) in handlers.items():
            if any((message_id, name) not in done for name in names):
                missed.append(id_)
        return missed

    def _envelopes(self, connection: Connection, ids: list[int]) -> list[Envelope]:
        """The envelopes of the rows ``ids`` that can be read, in log order."""
        if not ids:
            return []
        outbox = self._outbox
        rows = connection.execute(
            select(outbox.c.message_id, outbox.c.envelope)
            .where(outbox.c.id.in_(ids))
            .order_by(outbox.c.id)
        ).all()
        envelopes: list[Envelope] = []
        for row in rows:
            try:
                envelopes.append(self._serializer.loads(row.envelope))
            except MessageError as error:
                log.error(
                    "recovery cannot read event message_id=%s error=%s", row.message_id, error
                )
        return envelopes

    def sweep(self, grace: float | None = None) -> int:
        """Sweep batch after batch until one is not full; returns how many were dispatched.

        A short batch means the sweep caught up: what commits meanwhile waits for the next
        round (going on while anything was found would chase the grace period's edge a few
        rows at a time for as long as commits keep coming)."""
        total = 0
        while True:
            looked_at, dispatched = self._sweep_batch(grace)
            total += dispatched
            if looked_at < self._batch_size:
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
