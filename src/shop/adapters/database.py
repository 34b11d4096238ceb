"""Engines for SQLite and PostgreSQL, configured for concurrent use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from seedwork.core.errors import ConfigurationError


def _make_directory_of(database: str) -> None:
    """Create the SQLite file's directory; one that cannot be created is a configuration error."""
    directory = Path(database).parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigurationError(
            f"DATABASE_URL: cannot create the directory {str(directory)!r} of the SQLite "
            f"database: {reason}"
        ) from None


def create_database_engine(url: str, **overrides: Any) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _make_directory_of(parsed.database)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 30},
            **overrides,
        )

        @event.listens_for(engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # Let the ORM's own BEGIN handling work and serialise writers (BEGIN IMMEDIATE).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No pre-ping: it costs a round trip on every checkout (most of a small transaction's
    # overhead). A connection found dead fails its one request (503, or a retried message)
    # and SQLAlchemy then invalidates the whole pool; recycling bounds idle connections' age.
    options: dict[str, Any] = {"pool_size": 10, "max_overflow": 20, "pool_recycle": 600}
    options.update(overrides)
    return create_engine(parsed, **options)
