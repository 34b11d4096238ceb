"""Shadow tables: where ``shop views rebuild`` builds the new views, and how they are swapped in.

On PostgreSQL the shadows live in a schema of their own, first on the building transactions'
``search_path``; the swap drops the live tables and moves the shadows (indexes and all) into
the live schema, a catalogue change that takes milliseconds whatever their size. On SQLite
they are the building connection's TEMP tables (a TEMP table hides a ``main`` one of the same
name); the swap copies their rows into the live tables (readers never wait on a writer there).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection, Table, text
from sqlalchemy.schema import CreateIndex, CreateTable

from shop.views.tables import TABLES, metadata

SHADOW_SCHEMA = "shop_views_rebuild"


def shadow_for(connection: Connection) -> Shadow:
    """The shadow tables for the connection's database."""
    if connection.dialect.name == "postgresql":
        return PostgresShadow(connection)
    return SqliteShadow()


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
