"""Event-handler failures kept in the database, and what follows an in-process dispatch."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, Table, insert, update

from seedwork.messages import Envelope, utcnow
from seedwork.serialization import Serializer


class SqlFailedEvents:
    """Records an event a handler kept failing on, with the error, for replay."""

    def __init__(self, engine: Engine, table: Table, serializer: Serializer) -> None:
        self._engine = engine
        self._table = table
        self._serializer = serializer

    def record(self, envelope: Envelope, handler: str, error: BaseException) -> None:
        """Keep the failure in its own transaction."""
        with self._engine.begin() as connection:
            connection.execute(
                insert(self._table),
                {
                    "message_id": envelope.message_id,
                    "handler": handler,
                    "type": envelope.name,
                    "envelope": self._serializer.dumps(envelope),
                    "error": f"{type(error).__name__}: {error}",
                    "failed_at": utcnow(),
                },
            )


def mark_handled(engine: Engine, outbox: Table, envelopes: list[Envelope]) -> None:
    """Note that these events went through their in-process handlers."""
    ids = [e.message_id for e in envelopes]
    if not ids:
        return
    with engine.begin() as connection:
        connection.execute(
            update(outbox)
            .where(outbox.c.message_id.in_(ids), outbox.c.handled_at.is_(None))
            .values(handled_at=utcnow())
        )


class DispatchHooks:
    """Run after the bus dispatched events: mark them handled, then wake listeners (the relay).

    In that order: a relay woken first would skip the rows the marking update holds locked.
    """

    def __init__(self, engine: Engine, outbox: Table) -> None:
        self._engine = engine
        self._outbox = outbox
        self.listeners: list[Callable[[list[Envelope]], None]] = []

    def __call__(self, envelopes: list[Envelope]) -> None:
        mark_handled(self._engine, self._outbox, envelopes)
        for listener in self.listeners:
            listener(envelopes)
