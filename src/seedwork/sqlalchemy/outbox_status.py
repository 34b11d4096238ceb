"""How far behind the outbox relay is: what ``shop outbox status`` prints."""

from __future__ import annotations

import attrs
from sqlalchemy import Engine, Table, func, select

from seedwork.core.messages import utcnow


@attrs.frozen
class OutboxStatus:
    """How far behind the relay is."""

    pending: int
    failed: int
    oldest_pending_age: float | None


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
