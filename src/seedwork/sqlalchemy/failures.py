"""Database failures: which are transient, and how a refused value is named for a dead letter.

A database error is named by its condition, never by its SQL text or parameters
(``DataError: reference: the database refused the value (StringDataRightTruncation,
SQLSTATE 22001)``); the whole error goes to the log at DEBUG.
"""

from __future__ import annotations

import re
import sqlite3

import psycopg
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from seedwork.core.failures import Failures

# SQLite constraint messages name only the table and column ("NOT NULL constraint failed: t.c").
_SQLITE_CONSTRAINT = re.compile(r"[A-Z ]+ constraint failed: (?P<field>[\w.]+)")

_TRANSIENT = (
    OperationalError,  # unreachable, dropped connection, serialization failure, deadlock
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def _invalidated(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _unavailable(error: BaseException) -> bool:
    return DATABASE.is_transient(error)


def describe_database_error(error: BaseException) -> str | None:
    """The kind, field and condition of a database error; its SQL and parameters left out."""
    if not isinstance(error, StatementError):
        return None
    orig = error.orig
    condition = type(orig).__name__ if orig is not None else "unknown"
    field: str | None = None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        condition = f"{condition}, SQLSTATE {sqlstate}"
    diag = getattr(orig, "diag", None)
    if diag is not None:
        field = diag.column_name or diag.constraint_name
    if isinstance(orig, sqlite3.Error):
        condition = getattr(orig, "sqlite_errorname", None) or condition
        found = _SQLITE_CONSTRAINT.fullmatch(str(orig))
        if found:
            field = found["field"].rpartition(".")[2]
    if _unavailable(error):
        return f"{type(error).__name__}: the database is unavailable ({condition})"
    where = f"{field}: " if field else ""
    what = "the value" if field else "the command"
    return f"{type(error).__name__}: {where}the database refused {what} ({condition})"


#: Database failures for ``seedwork.core.failures.Failures``.
DATABASE = Failures(
    transient_types=_TRANSIENT,
    transient_checks=(_invalidated,),
    describers=(describe_database_error,),
)
