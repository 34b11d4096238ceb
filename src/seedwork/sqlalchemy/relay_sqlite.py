"""The relay's claim on SQLite: an ordered select, then the mark in a second transaction.

SQLite serialises writers, so a plain ordered select is claim enough. Read, publish and mark
happen in separate short transactions, so writers are never blocked while Redis is slow; at
worst (a crash between publish and mark) a row goes out twice, which at-least-once allows.
There is no NOTIFY: a relay in another process finds new rows at its poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import Engine, Table, select, update

from seedwork.core.messages import utcnow
from seedwork.sqlalchemy.relay_claim import Publish


class SqliteClaim:
    """Reads the oldest unsent rows, has them published, then marks them sent."""

    held = False  # no row is ever skipped: there is no SKIP LOCKED

    def __init__(self, engine: Engine, outbox: Table, batch_size: int) -> None:
        self._engine = engine
        self._outbox = outbox
        self._read_unsent = (
            select(outbox.c.id, outbox.c.type, outbox.c.envelope)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch_size)
        )

    def relay(self, publish: Publish, *, wait: bool) -> int:
        """Read a batch, publish it, mark it sent (``wait`` does not matter: no turns here)."""
        with self._engine.begin() as connection:
            rows = connection.execute(self._read_unsent).all()
        publish(rows)
        if rows:
            outbox = self._outbox
            with self._engine.begin() as connection:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([row.id for row in rows]))
                    .values(published_at=utcnow())
                )
        return len(rows)

    def listener(self, wake: Callable[[], None]) -> Callable[[threading.Event], None] | None:
        """None: SQLite cannot tell another process's commit; the poll finds it."""
        return None

    def close(self) -> None:
        """Nothing held between batches."""
