"""Rebuilding the read models from the event log into shadow tables, swapped in at the end.

Readers keep using the current views while the new ones are built: the shadow tables are
filled chunk by chunk, one short transaction each, on one connection that resolves the
view tables' names to the shadows (see ``shop.views.projections.shadow``): the log as it was at the
start, then one pass over what came meanwhile (however busy the shop, the build ends). Only
the swap is exclusive: it locks the live views, applies the events committed since (and those
of the last ``RESCAN_SECONDS`` again: projections are idempotent, and an event whose
transaction was still open when the build passed its id is caught that way), then swaps.
Events committed after the swap reach the new tables through the live projections.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, func, select

from seedwork.core.errors import MessageError
from seedwork.core.messages import Event, utcnow
from seedwork.core.serialization import Serializer
from shop.views.projections.apply import PROJECTIONS
from shop.views.projections.shadow import shadow_for
from shop.views.projections.upserts import ViewWrites

log = logging.getLogger("shop.views")

CHUNK = 500
RESCAN_SECONDS = 5.0


class Progress(Protocol):
    """Told how many events there are and how many are done."""

    total: int

    def advance(self, count: int) -> None:
        """``count`` more events applied."""


def rebuild_views(
    engine: Engine, outbox: Table, serializer: Serializer, progress: Progress
) -> tuple[int, float]:
    """Rebuild every read model; returns (events applied, seconds the swap held the views)."""
    names = [kind.message_name() for kind in PROJECTIONS]
    with engine.connect() as connection:
        tables = shadow_for(connection)
        try:
            with connection.begin():
                tables.create(connection)
                progress.total = connection.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.type.in_(names))
                ).scalar_one()
            applied, last, chunk_start = 0, 0, 0
            for _ in range(2):  # the log as it was, then what came meanwhile; the rest at the swap
                head = _head(connection, outbox)
                while last < head:
                    with connection.begin():
                        tables.use(connection)
                        rows = _chunk(connection, outbox, names, last)
                        _apply(connection, serializer, rows)
                    if not rows:
                        break
                    chunk_start, last = last, rows[-1][0]
                    applied += len(rows)
                    progress.total = max(progress.total, applied)
                    progress.advance(len(rows))
            floor = min(chunk_start, _recent_floor(connection, outbox, last))
            started = time.monotonic()
            with connection.begin():
                tables.lock_live(connection)
                tables.use(connection)
                while rows := _chunk(connection, outbox, names, floor):
                    _apply(connection, serializer, rows)
                    applied += sum(1 for row in rows if row[0] > last)
                    floor = rows[-1][0]
                tables.swap(connection)
            return applied, time.monotonic() - started
        finally:
            with connection.begin():
                tables.drop(connection)


def _chunk(connection: Connection, outbox: Table, names: list[str], after: int) -> list[Any]:
    """The next ``CHUNK`` projected events after the log position ``after``."""
    return list(
        connection.execute(
            select(outbox.c.id, outbox.c.envelope)
            .where(outbox.c.id > after, outbox.c.type.in_(names))
            .order_by(outbox.c.id)
            .limit(CHUNK)
        )
    )


def _head(connection: Connection, outbox: Table) -> int:
    """The newest log position now."""
    with connection.begin():
        return int(connection.execute(select(func.coalesce(func.max(outbox.c.id), 0))).scalar_one())


def _recent_floor(connection: Connection, outbox: Table, last: int) -> int:
    """The newest log position older than ``RESCAN_SECONDS`` (events after it are applied again)."""
    cutoff = utcnow() - timedelta(seconds=RESCAN_SECONDS)
    with connection.begin():
        found = connection.execute(
            select(outbox.c.id)
            .where(outbox.c.id <= last, outbox.c.occurred_at < cutoff)
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar()
    return int(found or 0)


def _apply(connection: Connection, serializer: Serializer, rows: list[Any]) -> None:
    """Project every event of ``rows`` in the connection's transaction."""
    writes = ViewWrites(connection)
    for position, envelope in rows:
        try:
            event = serializer.loads(envelope).message
        except MessageError as error:
            log.error("rebuild cannot read event id=%s error=%s", position, error)
            continue
        project = PROJECTIONS.get(type(event)) if isinstance(event, Event) else None
        if project is not None:
            project(writes, event, position)
    writes.flush()
