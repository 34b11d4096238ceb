"""What the command line says when a command fails: one line, and the exit status.

A setting the servers refuse (a database or Redis database that does not exist, a password
they do not accept) is a bad setting like a malformed one: exit 2. A server that does not
answer is exit 1. Nothing here is ever shown with a password (``shop.redaction``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs
from redis.exceptions import AuthenticationError, AuthorizationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from seedwork.core.errors import ConfigurationError
from shop.bootstrap import redis_client

#: What PostgreSQL says when it refuses the settings rather than being unreachable.
_REFUSED_LOGIN = re.compile(
    r'database "[^"]*" does not exist|role "[^"]*" does not exist'
    r"|password authentication failed[^\n]*|no password supplied|no pg_hba\.conf entry[^\n]*"
)
#: What Redis says when the URL names a database it does not have, or a login it refuses.
_REDIS_REFUSALS = ("DB index is out of range", "NOAUTH", "WRONGPASS", "invalid password")


@attrs.frozen
class Failure:
    """How a command failed, as told to the operator."""

    status: int
    line: str


def one_line(text: str) -> str:
    """The first non-blank line of an error's text (drivers add detail lines after it)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return text.strip()


def explain(error: BaseException) -> Failure | None:
    """The failure a known error means, or None for an error no setting explains."""

    if isinstance(error, ConfigurationError):
        return Failure(2, f"configuration error: {error}")
    if isinstance(error, OperationalError | InterfaceError | ProgrammingError):
        return _database(error)
    if isinstance(error, AuthenticationError | AuthorizationError) or (
        isinstance(error, ResponseError) and any(s in str(error) for s in _REDIS_REFUSALS)
    ):
        return Failure(2, f"configuration error: REDIS_URL: the Redis server refused it: {error}")
    if isinstance(error, RedisConnectionError | RedisTimeoutError):
        return Failure(1, f"Redis is unreachable: {one_line(str(error))}")
    return None


def _database(error: Exception) -> Failure | None:

    orig = getattr(error, "orig", None) or error
    text = one_line(str(orig))
    if _missing_table(orig):
        return Failure(
            1, f"the database has no shop tables yet; run `shop db upgrade` first ({text})"
        )
    refused = _REFUSED_LOGIN.search(str(orig))
    if refused or str(getattr(orig, "sqlstate", "") or "").startswith(("28", "3D")):
        reason = refused.group(0) if refused else text
        return Failure(
            2, f"configuration error: DATABASE_URL: the database server refused it: {reason}"
        )
    if isinstance(error, ProgrammingError):
        return None
    return Failure(1, f"the database is unreachable: {text}")


def _missing_table(orig: object) -> bool:
    """Whether a database error says a table does not exist (an unmigrated database)."""
    if getattr(orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
        return True
    return "no such table" in str(orig)  # SQLite


def check_redis(url: str | None, *, tolerate_unreachable: bool) -> None:
    """Ask Redis once: a URL it refuses raises; unreachable raises unless tolerated.

    Long-running roles tolerate a Redis that is down (they wait for it); a Redis that
    answers "no" to the settings never becomes right by waiting.
    """

    if url is None:
        return
    client = redis_client(url)
    try:
        client.ping()
    except (RedisConnectionError, RedisTimeoutError) as error:
        failure = explain(error)
        if not tolerate_unreachable or (failure is not None and failure.status == 2):
            raise
    finally:
        client.close()


def shown(failure: Failure, redact: Callable[[str], str]) -> str:
    """The line printed on stderr."""
    return redact(f"shop: {one_line(failure.line)}")
