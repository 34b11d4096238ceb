"""Orders and stocks as table rows: loaded with Core statements, written back by difference.

The two aggregates every business operation touches are not mapped by the ORM. A repository
builds them from the rows of one SELECT, keeps what it read (a ``Record``: the root's row, its
version and its parts' rows by identity), and at commit compares each aggregate with its record
and writes only what changed: the root's version, bumped with ``WHERE version = <as read>`` so
a concurrent change conflicts (``ConcurrencyConflict``), then the parts inserted, updated or
deleted. The statements are built once; writing one changed batch costs one statement on
PostgreSQL and a few hundred Python calls, where the ORM's flush cost thousands.

``stocks`` and ``orders`` hold each aggregate's statements; this module what they share. See
docs/adr/0013.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any, Protocol, TypeVar

import attrs
from sqlalchemy import Connection

from seedwork.core.errors import ConcurrencyConflict
from seedwork.sqlalchemy.direct import Direct

Row = dict[str, Any]


V = TypeVar("V")


def write_all(
    connection: Connection,
    known: dict[Any, tuple[V, Record | None]],
    write_new: Callable[[Connection, V], Record],
    write_changed: Callable[[Connection, V, Record, bool], None],
    recorded: Container[Any],
) -> None:
    """Store a repository's aggregates at commit: the new ones whole (their records kept from
    now on), the others by what changed since their records. Those in ``recorded`` wrote
    events: each is a new version even if it ends as it was read (its events were decided on
    what was read, so a concurrent change must conflict)."""
    for key, (root, record) in known.items():
        if record is None:
            known[key] = (root, write_new(connection, root))
        else:
            write_changed(connection, root, record, root in recorded)


class Versioned(Protocol):
    """A root with a version (an order, a stock)."""

    version: int

    @property
    def identity(self) -> Any:
        """What identifies it."""


@attrs.define
class Record:
    """What was read of one aggregate: its root's row and version, its parts' rows by key.

    ``key`` is the root's row key (the order's surrogate id; the stock's sku). ``complete`` is
    False when the parts were not read (a stock loaded to receive a new batch): then only new
    parts are written, none is compared."""

    key: Any
    version: int
    root: Row
    parts: dict[Any, Row]
    complete: bool = True


def folds(connection: Connection) -> bool:
    """Whether a root's version bump and its first part's write can be one statement."""
    return connection.dialect.name == "postgresql"


def bump(
    connection: Connection,
    statement: Direct,
    root: Versioned,
    record: Record,
    part: Row | None = None,
) -> None:
    """Move the root's row to its next version, or conflict if it is no longer as read;
    ``part``: the parameters of the part written in the same statement, if any.

    A root whose own rule moved its version (a stock deciding a line waits) keeps that one;
    otherwise a change to any part is a new version of the whole."""
    version = root.version if root.version != record.version else record.version + 1
    parameters = {**record.root, "key": record.key, "read_version": record.version}
    if part is not None:
        parameters.update(part)
    result = statement.run(connection, {**parameters, "version": version})
    if result.rowcount != 1:
        raise ConcurrencyConflict(
            f"{type(root).__name__} {root.identity!r} changed since it was read"
        )
    root.version = record.version = version
