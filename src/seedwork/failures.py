"""Why a message failed: a transient failure (retry it) or its own fault (a dead letter).

Transient: the database or Redis cannot be reached or timed out, the connection broke, or
another transaction won (serialization failure, deadlock, optimistic-lock conflict). None
of these says anything about the message; it is applied once they pass. Everything else
(invalid fields, a business rule refusing it, an unknown type, a value the database
rejects) is the message's own fault.

``describe`` turns a failure into the dead letter's ``error``: the kind, and the field when
one is known (``InvalidField: reference: …``). It never carries SQL text or parameters: a
database error is named by its condition (``DataError: reference: the database refused the
value (StringDataRightTruncation, SQLSTATE 22001)``); the whole error goes to the log at DEBUG.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.errors import ConcurrencyConflict, InvalidPayload
from seedwork.redis_streams import sleeper

T = TypeVar("T")

#: Told of each retry: (attempt number, seconds to wait, the transient error).
OnRetry = Callable[[int, float, BaseException], None]

#: Failures that are no fault of the message: wait, then apply it again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,  # unreachable, dropped connection, serialization failure, deadlock
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
    ConcurrencyConflict,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)

# SQLite constraint messages name only the table and column ("NOT NULL constraint failed: t.c").
_SQLITE_CONSTRAINT = re.compile(r"[A-Z ]+ constraint failed: (?P<field>[\w.]+)")


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) is no fault of the message."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TRANSIENT_ERRORS):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__
    return False


def retry_transient(
    call: Callable[..., T],
    *args: Any,
    stop: threading.Event | None = None,
    transient: Callable[[BaseException], bool] = is_transient,
    max_backoff: float = 2.0,
    on_retry: OnRetry | None = None,
) -> T:
    """``call(*args)``, again with jittered exponential backoff for as long as it fails
    transiently; the last error is raised once ``stop`` is set, any other error at once."""
    stop = stop or threading.Event()

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if on_retry is not None and error is not None:
            on_retry(state.attempt_number, wait, error)

    retrying = Retrying(
        retry=retry_if_exception(transient),
        stop=stop_when_event_set(stop),
        wait=wait_random_exponential(multiplier=0.02, max=max_backoff),
        sleep=sleeper(stop),
        before_sleep=note,
        reraise=True,
    )
    return retrying(call, *args)


def describe(error: BaseException) -> str:
    """A failure as ``Kind: field: message`` for a dead letter; never SQL or parameters."""
    if isinstance(error, InvalidPayload):
        fields = "; ".join(
            f"{e.field}: {e.message}" if e.field else e.message for e in error.errors
        )
        return f"{type(error).__name__}: {fields}"
    if isinstance(error, StatementError):
        return _database_error(error)
    return f"{type(error).__name__}: {error}"


def _database_error(error: StatementError) -> str:
    """The kind, field and condition of a database error; its SQL and parameters left out."""
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
    if is_transient(error):
        return f"{type(error).__name__}: the database is unavailable ({condition})"
    where = f"{field}: " if field else ""
    what = "the value" if field else "the command"
    return f"{type(error).__name__}: {where}the database refused {what} ({condition})"
