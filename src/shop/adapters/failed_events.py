"""Event-handler failures kept in the database."""

from __future__ import annotations

from sqlalchemy import Engine, Table, insert

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
