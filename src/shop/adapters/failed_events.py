"""Event-handler failures kept in the database, to be listed and replayed once fixed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs
from sqlalchemy import Engine, Table, func, insert, select, update

from seedwork.core.messages import Envelope, utcnow
from seedwork.core.serialization import Serializer
from shop.adapters.failures import FAILURES


@attrs.frozen
class FailedEvent:
    """One recorded failure of one handler on one event."""

    id: int
    message_id: str
    handler: str
    type: str
    envelope: str
    error: str
    failed_at: datetime
    replayed_at: datetime | None


class SqlFailedEvents:
    """Records an event a handler kept failing on, with the error, for replay."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        serializer: Serializer,
        inbox: Table | None = None,
        *,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._engine = engine
        self._table = table
        self._serializer = serializer
        self._inbox = inbox
        # Masks secrets in the error text before it is kept.
        self._redact = redact or (lambda text: text)

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
                    # Kind and field, never SQL or parameters (the log has the detail).
                    "error": self._redact(FAILURES.describe(error)),
                    "failed_at": utcnow(),
                },
            )

    def unreplayed(self, limit: int) -> list[FailedEvent]:
        """The oldest ``limit`` failures not replayed yet."""
        table = self._table
        statement = (
            select(table).where(table.c.replayed_at.is_(None)).order_by(table.c.id).limit(limit)
        )
        with self._engine.connect() as connection:
            return [FailedEvent(**row._asdict()) for row in connection.execute(statement)]

    def count_unreplayed(self) -> int:
        """How many failures wait for a replay."""
        table = self._table
        statement = select(func.count()).where(table.c.replayed_at.is_(None))
        with self._engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    def get(self, failure_id: int) -> FailedEvent | None:
        """One failure by id, or None."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(self._table).where(self._table.c.id == failure_id)
            ).first()
        return None if row is None else FailedEvent(**row._asdict())

    def latest_error(self, message_id: str, handler: str) -> str | None:
        """The error of the newest failure of ``handler`` on the event ``message_id``."""
        table = self._table
        statement = (
            select(table.c.error)
            .where(table.c.message_id == message_id, table.c.handler == handler)
            .order_by(table.c.id.desc())
            .limit(1)
        )
        with self._engine.connect() as connection:
            return connection.execute(statement).scalar()

    def applied(self, failure: FailedEvent) -> bool:
        """Whether the failed handler has since handled the event (its inbox row exists)."""
        assert self._inbox is not None, "built without the inbox table"
        inbox = self._inbox
        statement = select(inbox.c.message_id).where(
            inbox.c.message_id == failure.message_id, inbox.c.handler == failure.handler
        )
        with self._engine.connect() as connection:
            return connection.execute(statement).first() is not None

    def mark_replayed(self, message_id: str, handler: str) -> None:
        """Every failure of ``handler`` on the event ``message_id`` is settled."""
        table = self._table
        with self._engine.begin() as connection:
            connection.execute(
                update(table)
                .where(
                    table.c.message_id == message_id,
                    table.c.handler == handler,
                    table.c.replayed_at.is_(None),
                )
                .values(replayed_at=utcnow())
            )
