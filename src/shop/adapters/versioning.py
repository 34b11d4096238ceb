"""Flush-time rules the mapping needs: aggregate versions and the allocation sequence."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, event, func, inspect, select
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker


def version_roots_with_their_parts(
    sessions: sessionmaker[Session], parts: Mapping[type[Any], str]
) -> None:
    """Bump a root's version when only its parts changed (``{Root: "collection"}``).

    ``version_id_col`` alone checks a row only when that row is updated; allocating a
    line changes a batch row and not the stock row, and two such changes must conflict.
    Listens on the sessions of ``sessions`` only (a shop's own factory).
    """

    def bump_changed_roots(session: Session, _: UOWTransaction, __: Iterable[Any] | None) -> None:
        for instance in session.identity_map.values():
            collection = parts.get(type(instance))
            if collection is not None and _parts_changed(instance, collection):
                _bump_version(instance)

    event.listen(sessions, "before_flush", bump_changed_roots)


def _bump_version(root: Any) -> None:
    if not inspect(root).attrs.version.history.has_changes():
        # Setting the column makes the flush emit UPDATE ... WHERE version = old.
        root.version += 1


def _parts_changed(root: Any, collection: str) -> bool:
    state = inspect(root)
    if collection not in state.dict:
        return False
    if state.attrs[collection].history.has_changes():
        return True
    return any(inspect(part).modified for part in state.dict[collection])


def number_allocations(batch_reference: Any, table: Table) -> None:
    """Give a line its batch's next ``allocation_seq`` whenever it takes a batch.

    The number is computed by the database in the same UPDATE (one round trip); two
    allocations on one batch never commit concurrently, as they both change its stock.
    """
    earlier = table.alias("earlier")

    # Built once per batch reference (a few hundred Python calls each), then shared: SQL
    # constructs are immutable, and the flush only renders it.
    @functools.lru_cache(maxsize=1024)
    def next_number(reference: str) -> Any:
        newest = (
            select(func.max(earlier.c.allocation_seq))
            .where(earlier.c.batch_reference == reference)
            .scalar_subquery()
        )
        return func.coalesce(newest, 0) + 1

    def on_set(line: Any, value: str | None, old: Any, _: Any) -> None:
        if value is None:
            line._allocation_seq = None
        elif value != old:
            line._allocation_seq = next_number(value)

    event.listen(batch_reference, "set", on_set)
