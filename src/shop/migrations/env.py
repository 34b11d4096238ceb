"""Alembic environment: runs migrations on a given connection or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from shop.adapters.database import create_database_engine
from shop.adapters.tables import metadata
from shop.views.tables import metadata as views_metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=[metadata, views_metadata],
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    """Migrate with the connection handed in, or open one from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_database_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


run_migrations()
