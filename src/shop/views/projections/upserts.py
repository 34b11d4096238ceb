"""The projections' SQL: guarded upserts, written once per shape and cached.

A row of a read model moves forward only: an upsert applies when the row's ``position`` is not
newer than the event's. A projection that writes two tables writes the second only when the
first applied: on PostgreSQL both go in one statement (a data-modifying ``WITH``), elsewhere in
two. A commit's projections are gathered (``ViewWrites``) and, on PostgreSQL, their upserts go
as one statement, a round trip for all the read models a change touches; two upserts of one
row never share a statement (the database would apply only one of them). The SQL is text
because SQLAlchemy does not cache the compiled form of ``ON CONFLICT``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, Table, bindparam, text
from sqlalchemy.dialects import postgresql

from seedwork.sqlalchemy.direct import Direct

Row = Mapping[str, Any]


@attrs.frozen
class Shape:
    """What an upsert writes: which table and columns, how many rows, how columns change.

    ``keep``: columns an existing row keeps; ``add``: columns added to the existing value
    (such an upsert applies only to a strictly older row, so an event never counts twice).
    """

    table: Table
    columns: tuple[str, ...]
    count: int = 1
    keep: tuple[str, ...] = ()
    add: tuple[str, ...] = ()


#: Upserts fused into one statement at most (each distinct sequence of shapes is a statement
#: kept in the cache; a rebuild applies thousands of events).
FUSED_AT_MOST = 8

Then = tuple[Shape, Sequence[Row]] | None


@attrs.define
class _Upsert:
    first: Shape
    rows: Sequence[Row]
    then: Then
    keys: frozenset[tuple[str, tuple[Any, ...]]]


class ViewWrites:
    """The read-model writes of one transaction, in order; upserts are held and sent together.

    ``flush`` sends what is held (the projections' caller flushes once they are all applied)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._fuses = connection.dialect.name == "postgresql"
        self._held: list[_Upsert] = []
        self._keys: set[tuple[str, tuple[Any, ...]]] = set()

    def upsert(self, first: Shape, rows: Sequence[Row], then: Then = None) -> None:
        """Upsert ``rows`` (guarded by position); if they applied, upsert ``then``'s rows too."""
        if not self._fuses:
            upsert(self.connection, first, rows, then)
            return
        keys = _keys(first, rows) | (_keys(*then) if then is not None else frozenset())
        if self._keys & keys or len(self._held) >= FUSED_AT_MOST:
            self.flush()
        self._held.append(_Upsert(first, rows, then, keys))
        self._keys |= keys

    def execute(self, statement: Any) -> None:
        """Run another write, after the upserts held before it."""
        self.flush()
        self.connection.execute(statement)

    def flush(self) -> None:
        """Send the upserts held: one alone as before, several as one statement."""
        held, self._held = self._held, []
        self._keys = set()
        if len(held) == 1:
            upsert(self.connection, held[0].first, held[0].rows, held[0].then)
        elif held:
            shapes = tuple((each.first, each.then[0] if each.then else None) for each in held)
            parameters: dict[str, Any] = {}
            for n, each in enumerate(held):
                parameters.update(_parameters(f"u{n}a", each.first, each.rows))
                if each.then is not None:
                    parameters.update(_parameters(f"u{n}b", *each.then))
            _fused(shapes).run(self.connection, parameters)


def _keys(shape: Shape, rows: Sequence[Row]) -> frozenset[tuple[str, tuple[Any, ...]]]:
    names = [column.name for column in shape.table.primary_key.columns]
    return frozenset((shape.table.name, tuple(row[name] for name in names)) for row in rows)


@functools.lru_cache(maxsize=256)
def _fused(shapes: tuple[tuple[Shape, Shape | None], ...]) -> Direct:
    """Several upserts (each maybe with its second table) as one statement (PostgreSQL)."""
    parts: list[str] = []
    binds: list[Any] = []
    for n, (first, second) in enumerate(shapes):
        a, b = f"u{n}a", f"u{n}b"
        parts.append(f"{a} AS ({_insert(first, a, _values(first, a, cast=False))} RETURNING 1)")
        binds += _binds(first, a)
        if second is not None:
            source = (
                f"SELECT * FROM (VALUES {_values(second, b, cast=True)})"
                f" AS given ({', '.join(second.columns)}) WHERE EXISTS (SELECT 1 FROM {a})"
            )
            parts.append(f"{b} AS ({_insert(second, b, source)})")
            binds += _binds(second, b)
    return Direct(text(f"WITH {', '.join(parts)} SELECT 1").bindparams(*binds))


def upsert(
    connection: Connection,
    first: Shape,
    rows: Sequence[Row],
    then: tuple[Shape, Sequence[Row]] | None = None,
) -> bool:
    """Upsert ``rows`` (guarded by position); if they applied, upsert ``then``'s rows too.

    Returns whether the first upsert applied.
    """
    parameters = _parameters("a", first, rows)
    if then is None:
        statement = _statement(first, None, False)
        return statement.run(connection, parameters).first() is not None
    second, second_rows = then
    parameters.update(_parameters("b", second, second_rows))
    if connection.dialect.name == "postgresql":
        _statement(first, second, True).run(connection, parameters)
        return True
    if _statement(first, None, False).run(connection, parameters).first() is None:
        return False
    _statement(second, None, False, prefix="b").run(connection, parameters)
    return True


def _parameters(prefix: str, shape: Shape, rows: Sequence[Row]) -> dict[str, Any]:
    return {
        f"{prefix}{n}_{name}": row[name] for n, row in enumerate(rows) for name in shape.columns
    }


@functools.lru_cache(maxsize=256)
def _statement(first: Shape, second: Shape | None, fused: bool, prefix: str = "a") -> Direct:
    """The upsert of ``first`` alone, or fused with ``second`` in one statement (PostgreSQL)."""
    if second is None:
        sql = _insert(first, prefix, _values(first, prefix, cast=False)) + " RETURNING 1"
        return Direct(text(sql).bindparams(*_binds(first, prefix)))
    assert fused
    source = (
        f"SELECT * FROM (VALUES {_values(second, 'b', cast=True)})"
        f" AS given ({', '.join(second.columns)}) WHERE EXISTS (SELECT 1 FROM applied)"
    )
    applied = _insert(first, "a", _values(first, "a", cast=False)) + " RETURNING 1"
    sql = f"WITH applied AS ({applied}) {_insert(second, 'b', source)}"
    return Direct(text(sql).bindparams(*_binds(first, "a"), *_binds(second, "b")))


def _insert(shape: Shape, prefix: str, source: str) -> str:
    table = shape.table.name
    keys = [column.name for column in shape.table.primary_key.columns]
    changes = [
        f"{name} = {table}.{name} + excluded.{name}"
        if name in shape.add
        else f"{name} = excluded.{name}"
        for name in shape.columns
        if name not in (*keys, *shape.keep)
    ]
    guard = ""
    if "position" in shape.table.c:
        newer = "<" if shape.add else "<="
        guard = f" WHERE {table}.position {newer} excluded.position"
    return (
        f"INSERT INTO {table} ({', '.join(shape.columns)}) {source}"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(changes)}{guard}"
    )


def _values(shape: Shape, prefix: str, *, cast: bool) -> str:
    """``VALUES`` rows; cast, where a ``SELECT`` must give the database the columns' types."""

    def value(n: int, name: str) -> str:
        parameter = f":{prefix}{n}_{name}"
        if not cast:
            return parameter
        kind = shape.table.c[name].type.compile(dialect=_postgresql())
        return f"CAST({parameter} AS {kind})"

    rows = (
        "(" + ", ".join(value(n, name) for name in shape.columns) + ")" for n in range(shape.count)
    )
    return ("VALUES " if not cast else "") + ", ".join(rows)


def _binds(shape: Shape, prefix: str) -> list[Any]:
    return [
        bindparam(f"{prefix}{n}_{name}", type_=shape.table.c[name].type)
        for n in range(shape.count)
        for name in shape.columns
    ]


@functools.cache
def _postgresql() -> Any:
    return postgresql.dialect()  # type: ignore[no-untyped-call]
