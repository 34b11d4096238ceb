"""Rebuilding the read models from the event log into shadow tables, swapped in at the end.

Readers keep using the current views while the new ones are built: the shadow tables are
filled chunk by chunk, one short transaction each, on one connection that resolves the
view tables' names to the shadows (PostgreSQL: a schema of their own first on the
``search_path``; SQLite: TEMP tables, which hide ``main`` ones of the same name). Only the
swap is exclusive: it locks the live views, applies the events committed since (and those
of the last ``RESCAN_SECONDS`` again: projections are idempotent, and an event whose
transaction was still open when the build passed its id is caught that way), then swaps
(PostgreSQL: drop the old tables and move the new ones into place, a catalogue change;
SQLite: copy the rows into the live tables; readers there never wait on a writer anyway).
Events committed after the swap reach the new tables through the live projections.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Table, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, CreateTable

from seedwork.errors import MessageError
from seedwork.messages import Event, utcnow
from seedwork.serialization import Serializer
from shop.views.projections import PROJECTIONS
from shop.views.tables import TABLES, metadata

log = logging.getLogger("shop.views")

CHUNK = 500
RESCAN_SECONDS = 5.0
SHADOW_SCHEMA = "shop_views_rebuild"


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
        shadow = PostgresShadow(connection) if _dialect(connection) == "postgresql" else None
        tables: Shadow = shadow or SqliteShadow()
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


class Shadow(Protocol):
    """Where the new views are built, and how they replace the live ones."""

    def create(self, connection: Connection) -> None:
        """Create empty shadow tables (dropping any left by an interrupted rebuild)."""

    def use(self, connection: Connection) -> None:
        """Make the view tables' names mean the shadows in this transaction."""

    def lock_live(self, connection: Connection) -> None:
        """Keep everyone off the live views until the transaction ends."""

    def swap(self, connection: Connection) -> None:
        """Put the shadows in the live views' place."""

    def drop(self, connection: Connection) -> None:
        """Remove what is left of the shadows."""


class PostgresShadow:
    """Shadow tables in a schema of their own, moved into the live schema at the swap."""

    def __init__(self, connection: Connection) -> None:
        self._live = connection.execute(text("SELECT current_schema()")).scalar_one()
        self._path = connection.execute(text("SELECT current_setting('search_path')")).scalar_one()
        connection.rollback()

    def create(self, connection: Connection) -> None:
        """A fresh shadow schema holding empty view tables."""
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SHADOW_SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SHADOW_SCHEMA}"'))
        self.use(connection)
        metadata.create_all(connection, checkfirst=False)  # in the first schema of the path

    def use(self, connection: Connection) -> None:
        """The shadow schema first on this transaction's search path."""
        connection.execute(text(f'SET LOCAL search_path TO "{SHADOW_SCHEMA}", {self._path}'))

    def lock_live(self, connection: Connection) -> None:
        """ACCESS EXCLUSIVE on every live view table, in one statement."""
        names = [f'"{self._live}"."{table.name}"' for table in TABLES]
        present = [
            name
            for name in names
            if connection.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar()
        ]
        if present:  # a dropped view table is simply put back
            connection.execute(text(f"LOCK TABLE {', '.join(present)} IN ACCESS EXCLUSIVE MODE"))

    def swap(self, connection: Connection) -> None:
        """Drop the live tables and move the shadows (indexes and all) into their schema."""
        for table in TABLES:
            connection.execute(text(f'DROP TABLE IF EXISTS "{self._live}"."{table.name}"'))
            connection.execute(
                text(f'ALTER TABLE "{SHADOW_SCHEMA}"."{table.name}" SET SCHEMA "{self._live}"')
            )

    def drop(self, connection: Connection) -> None:
        """Drop the shadow schema and whatever it still holds."""
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SHADOW_SCHEMA}" CASCADE'))


class SqliteShadow:
    """Shadow tables as this connection's TEMP tables, copied into the live ones at the swap."""

    def create(self, connection: Connection) -> None:
        """Empty TEMP copies of the view tables and their indexes."""
        self.drop(connection)
        for table in TABLES:
            _create(connection, table, "temp")

    def use(self, connection: Connection) -> None:
        """Nothing to do: TEMP tables come first when a name is resolved."""

    def lock_live(self, connection: Connection) -> None:
        """Nothing to do: the transaction began IMMEDIATE, no one else writes meanwhile."""

    def swap(self, connection: Connection) -> None:
        """Replace the live rows by the shadows' rows (a dropped live table is put back)."""
        for table in TABLES:
            if not _in_main(connection, table.name):
                _create(connection, table, "main")
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            connection.exec_driver_sql(f'DELETE FROM main."{table.name}"')
            connection.exec_driver_sql(
                f'INSERT INTO main."{table.name}" ({columns})'
                f' SELECT {columns} FROM temp."{table.name}"'
            )

    def drop(self, connection: Connection) -> None:
        """Drop the TEMP tables."""
        for table in TABLES:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS temp."{table.name}"')


def _in_main(connection: Connection, name: str) -> bool:
    found = connection.exec_driver_sql(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = ?", (name,)
    )
    return found.first() is not None


def _create(connection: Connection, table: Table, schema: str) -> None:
    """Create a view table and its indexes in a SQLite schema (``main`` or ``temp``)."""
    ddl = str(CreateTable(table).compile(dialect=connection.dialect)).strip()
    connection.exec_driver_sql(
        ddl.replace(f"CREATE TABLE {table.name} ", f"CREATE TABLE {schema}.{table.name} ", 1)
    )
    for index in table.indexes:
        ddl = str(CreateIndex(index).compile(dialect=connection.dialect)).strip()
        connection.exec_driver_sql(
            ddl.replace(f"INDEX {index.name} ", f"INDEX {schema}.{index.name} ", 1)
        )


def _dialect(connection: Connection) -> str:
    return connection.dialect.name


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
    session = Session(bind=connection)
    try:
        for position, envelope in rows:
            try:
                event = serializer.loads(envelope).message
            except MessageError as error:
                log.error("rebuild cannot read event id=%s error=%s", position, error)
                continue
            project = PROJECTIONS.get(type(event)) if isinstance(event, Event) else None
            if project is not None:
                project(session, event, position)
    finally:
        session.close()
