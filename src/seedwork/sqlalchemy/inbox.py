"""The inbox read back: whether a handler already applied a message (its row is committed).

A message's inbox row is written in the same transaction as its change, so the row, not
the exception a caller saw, says whether the change happened: a commit whose answer was lost
is found here.
"""

from __future__ import annotations

from sqlalchemy import Engine, Table, select


class SqlInbox:
    """The inbox table of a SQL database (``seedwork.core.uow.Inbox``)."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self._engine = engine
        self._table = table

    def applied(self, message_id: str, handler: str) -> bool:
        """Whether the inbox holds the row of this message and handler."""
        inbox = self._table
        with self._engine.connect() as connection:
            row = connection.execute(
                select(inbox.c.message_id).where(
                    inbox.c.message_id == message_id, inbox.c.handler == handler
                )
            ).first()
        return row is not None
