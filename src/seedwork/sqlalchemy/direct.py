"""Hot statements compiled once and run straight on the driver's cursor (ADR 0014).

SQLAlchemy's ``Connection.execute`` adds about 130 µs of CPU per statement over psycopg on
the machines the benchmarks run on (a cache-key walk, parameter processing, an execution
context, a new cursor, result metadata), where the driver alone costs about 60: on a
transaction of eight short statements that is most of the time spent. A ``Direct`` statement
is compiled once per dialect; when nothing in it needs SQLAlchemy at execution time (no
Python-side defaults, no expanding parameters: its type conversions are applied here, as
SQLAlchemy applies them) and nobody listens to the connection's statements, it runs on a
cursor kept with the driver connection and returns plain tuples. Otherwise (another driver,
SQLite, a listener, the statement log, a transaction not begun) it runs through
``Connection.execute`` with the same result: the fallback is the reference behaviour, and the
tests run both.

Driver errors are translated by SQLAlchemy's own handler, so callers see the same
``sqlalchemy.exc`` errors (and a lost connection is invalidated) on either path.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, cast

import attrs
from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable, Insert, Update, visitors
from sqlalchemy.sql.compiler import SQLCompiler

#: Statement options the driver path honours anyway (psycopg always counts rows).
_HARMLESS_OPTIONS = {"preserve_rowcount"}

#: The driver's status of a result that has rows (libpq's PGRES_TUPLES_OK).
_TUPLES = 2

#: Where a driver connection keeps the cursor direct statements reuse (its pool ``info``).
_CURSOR = "seedwork.direct.cursor"


class Rows:
    """A statement's rows (plain tuples), all fetched, and its row count (of a write: what
    an UPDATE, DELETE or INSERT touched)."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def all(self) -> list[Any]:
        """Every row."""
        return self.rows

    def first(self) -> Any | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any | None:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        """The first column of the only row."""
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0][0]


@attrs.define
class Plan:
    """A statement as the driver runs it: its SQL, the values it binds itself, the
    conversions of its parameters and (learnt from its first rows) of its columns."""

    sql: str
    fixed: Mapping[str, Any]
    bind_processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    result_types: tuple[Any, ...]
    row_type: Callable[..., Any] | None = None  # rows by column name too, when asked for
    result_processors: tuple[Callable[[Any], Any] | None, ...] | None = None
    #: Whether its rows are the statement's (not an implicit RETURNING's, which SQLAlchemy
    #: reads for ``inserted_primary_key`` and does not answer).
    answers_rows: bool = True
    #: Columns its INSERT or UPDATE leaves out: a parameter naming one is written too by
    #: ``Connection.execute`` (which compiles with the parameters' keys).
    unset: frozenset[str] = frozenset()

    def parameters(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """What the driver binds: the fixed values, the given ones, converted."""
        values = {**self.fixed, **given} if given else dict(self.fixed)
        for name, process in self.bind_processors:
            if name in values:
                values[name] = process(values[name])
        return values

    def rows(self, dialect: Dialect, cursor: Any) -> list[Any]:
        """The cursor's rows, each column converted as SQLAlchemy would."""
        rows = cursor.fetchall()
        processors = self.result_processors
        if processors is None:  # the first rows: the columns' wire types are known now
            processors = self.result_processors = _result_processors(
                dialect, self.result_types, cursor.description
            )
        if processors:
            pairs = [zip(processors, row, strict=True) for row in rows]
            rows = [tuple(v if p is None else p(v) for p, v in pair) for pair in pairs]
        if self.row_type is not None:
            return [self.row_type(*row) for row in rows]
        return list(rows)


class Direct:
    """A Core statement (built once, at import) that runs on the driver when it can; with
    ``named``, its rows' columns can be read by name too (as SQLAlchemy's rows can)."""

    __slots__ = ("__weakref__", "_compiled_for", "fallbacks", "named", "statement")

    #: Every direct statement made (while it lives): ``fallbacks_since`` sums over them.
    _made: ClassVar[weakref.WeakSet[Direct]] = weakref.WeakSet()

    def __init__(self, statement: Executable, *, named: bool = False) -> None:
        self.statement = statement
        self.named = named
        self._compiled_for: tuple[Dialect, Plan | None] | None = None
        self.fallbacks = 0  # runs that went through Connection.execute
        Direct._made.add(self)

    @classmethod
    def fallbacks_since(cls, counted: Mapping[int, int]) -> dict[str, int]:
        """The statements that went through SQLAlchemy since ``counted`` (a ``fallback_counts``
        taken before), by their SQL's first line: on psycopg with nobody listening, none should."""
        return {
            str(direct.statement).split("\n")[0][:80]: direct.fallbacks - counted.get(id(direct), 0)
            for direct in list(cls._made)
            if direct.fallbacks > counted.get(id(direct), 0)
        }

    @classmethod
    def fallback_counts(cls) -> dict[int, int]:
        """Each direct statement's fallbacks so far (for ``fallbacks_since``)."""
        return {id(direct): direct.fallbacks for direct in list(cls._made)}

    def plan(self, dialect: Dialect) -> Plan | None:
        """How the driver runs this statement on ``dialect``, or None when only SQLAlchemy can
        (a processor, a default, an expanding parameter, or a driver other than psycopg)."""
        compiled_for = self._compiled_for
        if compiled_for is None or compiled_for[0] is not dialect:
            compiled_for = (dialect, _plan(self.statement, dialect, self.named))
            self._compiled_for = compiled_for
        return compiled_for[1]

    def run_each(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per parameter row: one row directly, several as SQLAlchemy's batched
        ``executemany`` (one round trip for all of them)."""
        if len(rows) == 1:
            self.run(connection, rows[0])
        elif rows:
            self.fallbacks += 1
            connection.execute(self.statement, list(rows))

    def run(self, connection: Connection, parameters: Mapping[str, Any] | None = None) -> Rows:
        """Execute with ``parameters`` (one row of them) in the connection's transaction."""
        plan = self.plan(connection.dialect)
        if (
            plan is None
            or not _bare(connection)
            or (plan.unset and parameters and not plan.unset.isdisjoint(parameters))
        ):
            self.fallbacks += 1
            return _through_sqlalchemy(connection, self.statement, parameters, self.named)
        try:
            values = plan.parameters(parameters)
        except Exception as error:  # noqa: BLE001 - a StatementError, as SQLAlchemy raises it
            connection._handle_dbapi_exception(error, plan.sql, parameters, None, None)
        fairy = connection.connection
        driver: Any = fairy.driver_connection
        cursor = fairy.info.get(_CURSOR)
        if cursor is None or cursor.closed or cursor.connection is not driver:
            cursor = fairy.info[_CURSOR] = driver.cursor()
        try:
            cursor.execute(plan.sql, values)
            returned = (
                plan.answers_rows
                and cursor.pgresult is not None
                and cursor.pgresult.status == _TUPLES
            )
            rows = plan.rows(connection.dialect, cursor) if returned else []
        # Translated as SQLAlchemy does, and raised; an exit exception (a timeout's, a
        # kill's) midway invalidates the connection, as Connection.execute does.
        except BaseException as error:  # noqa: BLE001
            connection._handle_dbapi_exception(error, plan.sql, values, cursor, None)
        return Rows(rows, cursor.rowcount)


def _through_sqlalchemy(
    connection: Connection,
    statement: Executable,
    parameters: Mapping[str, Any] | None,
    named: bool,
) -> Rows:
    result = connection.execute(statement, parameters)
    rows: list[Any] = []
    if result.returns_rows:
        rows = list(result) if named else [tuple(row) for row in result]
    return Rows(rows, result.rowcount)


def _bare(connection: Connection) -> bool:
    """Whether a statement may bypass the connection: nobody listens to its statements, and
    no schema is translated, and its transaction (and savepoint, if any) is begun and not
    failed."""
    if connection._has_events or connection.engine._has_events or connection._echo:
        return False  # a listener, or the engine's statement log (echo), is watching
    dialect = connection.dialect
    if dialect._has_events and dialect.dispatch.do_execute:  # a dialect event: not the engine's
        return False
    if "schema_translate_map" in connection.get_execution_options():
        return False
    transaction = connection.get_transaction()
    if transaction is None or not transaction.is_active:
        return False
    nested = connection.get_nested_transaction()
    return nested is None or nested.is_active


def _plan(statement: Executable, dialect: Dialect, named: bool) -> Plan | None:
    if dialect.driver != "psycopg" or dialect.is_async:
        return None
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or not _plain(compiled):
        return None
    names = compiled.bind_names
    fixed = {names[bind]: bind.effective_value for bind in compiled.binds.values()
             if not bind.required}  # fmt: skip
    processors = compiled._bind_processors  # by bind name, only those that convert
    return Plan(
        sql=compiled.string,
        fixed=fixed,
        bind_processors=tuple(processors.items()),  # type: ignore[arg-type]
        result_types=tuple(column.type for column in compiled._result_columns),
        row_type=_row_type(compiled) if named else None,
        answers_rows=not compiled.implicit_returning or bool(getattr(statement, "_returning", ())),
        unset=_unset(compiled.statement),
    )


def _unset(statement: Any) -> frozenset[str]:
    """The columns an INSERT ... VALUES or an UPDATE (or one in its WITH) leaves out."""
    unset: set[str] = set()
    for element in visitors.iterate(statement):
        if isinstance(element, Update) or (isinstance(element, Insert) and element.select is None):
            given = {getattr(key, "key", key) for key in element._values or ()}
            unset.update(column.key for column in element.table.c if column.key not in given)
    return frozenset(unset)


def _row_type(compiled: SQLCompiler) -> Callable[..., Any]:
    """A tuple type whose fields are the statement's column names."""
    names = [column.keyname for column in compiled._result_columns]
    return namedtuple("Row", names, rename=True)  # type: ignore[misc]


def _plain(compiled: SQLCompiler) -> bool:
    """Whether the driver can run ``compiled`` with its parameters converted: SQLAlchemy has
    nothing else to do at execution time."""
    if (
        compiled.positional
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or set(compiled.execution_options) - _HARMLESS_OPTIONS
    ):
        return False
    return not any(bind.callable is not None or bind.expanding for bind in compiled.binds.values())


def _result_processors(
    dialect: Dialect, types: Sequence[Any], description: Sequence[Any]
) -> tuple[Callable[[Any], Any] | None, ...]:
    """Each column's conversion (none: an empty tuple), decided by its type and, as SQLAlchemy
    decides it, the driver's type code for it."""
    if len(types) != len(description):  # text without declared columns: nothing to convert
        return ()
    processors = tuple(
        type_._cached_result_processor(dialect, column.type_code)
        for type_, column in zip(types, description, strict=True)
    )
    return processors if any(p is not None for p in processors) else ()
