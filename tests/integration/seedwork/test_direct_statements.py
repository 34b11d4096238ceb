"""Direct statements: on psycopg they run on the driver's cursor, elsewhere through SQLAlchemy,
and either way they answer exactly as ``Connection.execute`` does."""

from __future__ import annotations

import enum
import logging
import signal
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    bindparam,
    create_engine,
    event,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from seedwork.sqlalchemy.direct import Direct


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Upper(TypeDecorator[str]):
    """Stored upper-case, read back lower-case: a processor each way."""

    impl = String(50)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.upper()

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else value.lower()


metadata = MetaData()
things = Table(
    "direct_things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("colour", Enum(Colour, native_enum=False, length=10), nullable=False),
    Column("shout", Upper, nullable=True),
    Column("made", Date, nullable=True),
    Column("seen_at", DateTime(timezone=True), nullable=True),
    Column("count", Integer, nullable=False),
    Column("tag", String(20), nullable=True, default=lambda: "plain"),  # decided in Python
)
_COLUMNS = ("name", "colour", "shout", "made", "seen_at", "count", "tag")

INSERT = insert(things).values({n: bindparam(n) for n in _COLUMNS}).returning(things.c.id)
BY_NAME = select(things).where(things.c.name == bindparam("name"))
COUNT_UP = (
    update(things)
    .where(things.c.name == bindparam("which"), things.c.count == 0)  # a fixed value, bound
    .values(count=bindparam("to"))
)
TEXT = text("SELECT name, count FROM direct_things WHERE count >= :least ORDER BY name")
WITH_DEFAULT = insert(things).values(colour=Colour.RED, count=0, name=bindparam("name"))


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    metadata.drop_all(engine)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)


def _row(name: str, **values: Any) -> dict[str, Any]:
    row = {"name": name, "colour": Colour.RED, "shout": None, "made": None, "seen_at": None}
    return {**row, "count": 0, "tag": "given", **values}


def _both(connection: Connection, statement: Any, parameters: Any) -> tuple[Any, Any]:
    """What Direct answers, then what Connection.execute answers, in one savepoint each."""
    with connection.begin_nested() as savepoint:
        direct = Direct(statement).run(connection, parameters)
        answered = (direct.all(), direct.rowcount)
        savepoint.rollback()
    with connection.begin_nested() as savepoint:
        result = connection.execute(statement, parameters)
        rows = [tuple(row) for row in result] if result.returns_rows else []
        expected = (rows, result.rowcount)
        savepoint.rollback()
    return answered, expected


def test_hot_statement_shapes_run_on_the_driver_on_postgresql(db: Engine) -> None:
    plans = [Direct(s).plan(db.dialect) for s in (INSERT, BY_NAME, COUNT_UP, TEXT)]
    if db.dialect.name == "postgresql":
        assert all(plan is not None for plan in plans)
    else:  # another driver: SQLAlchemy runs them all
        assert plans == [None] * 4
    # A Python-side default needs SQLAlchemy at execution time, on any database.
    assert Direct(WITH_DEFAULT).plan(db.dialect) is None


texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=texts.filter(bool),
    colour=st.sampled_from(Colour),
    shout=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=50),
    made=st.none() | st.dates(),
    seen_at=st.none()
    | st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9000, 1, 1),
        timezones=st.just(UTC),
    ),
    count=st.integers(min_value=-(2**31), max_value=2**31 - 1),
)
def test_a_direct_statement_answers_as_sqlalchemy_does(
    db: Engine,
    name: str,
    colour: Colour,
    shout: str | None,
    made: date | None,
    seen_at: datetime | None,
    count: int,
) -> None:
    row = _row(
        f"n-{name}"[:200], colour=colour, shout=shout, made=made, seen_at=seen_at, count=count
    )
    with db.connect() as connection, connection.begin() as transaction:
        Direct(INSERT).run(connection, _row("other", count=5))
        connection.execute(INSERT, row)
        for statement, parameters in (
            (BY_NAME, {"name": row["name"]}),
            (COUNT_UP, {"which": row["name"], "to": 7}),
            (TEXT, {"least": min(count, 5)}),
            (INSERT, _row(f"{row['name'][:190]}-2", colour=colour, shout=shout, made=made)),
        ):
            answered, expected = _both(connection, statement, parameters)
            rows, counted = answered
            if statement is INSERT:  # new ids: how many rows came back (SQLAlchemy does not
                assert len(rows) == len(expected[0]) == 1  # count an INSERT ... RETURNING)
            elif statement is COUNT_UP:  # the row count: of a write
                assert (rows, counted) == expected
            else:
                assert rows == expected[0]
        selected = Direct(BY_NAME).run(connection, {"name": row["name"]}).first()
        assert selected is not None
        row["shout"] = None if shout is None else shout.lower()  # as Upper reads it back
        if db.dialect.name == "sqlite" and seen_at is not None:  # SQLite keeps no time zone
            row["seen_at"] = seen_at.replace(tzinfo=None)
        assert selected[1:] == tuple(row[n] for n in _COLUMNS)
        transaction.rollback()  # the next example starts from an empty table


def test_a_constraint_broken_by_a_direct_statement_is_sqlalchemys_error(db: Engine) -> None:
    with db.connect() as connection:
        with connection.begin():
            Direct(INSERT).run(connection, _row("taken"))
        with pytest.raises(IntegrityError), connection.begin():
            Direct(INSERT).run(connection, _row("taken"))
        with connection.begin():  # the connection is fine after the rollback
            assert Direct(BY_NAME).run(connection, {"name": "taken"}).first() is not None


def test_a_lost_connection_is_invalidated_and_the_next_one_works(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as victim:
            with victim.begin():
                pid = Direct(text("SELECT pg_backend_pid()")).run(victim).scalar()
            with engine.connect() as killer, killer.begin():
                killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError) as raised, victim.begin():
                Direct(text("SELECT 2")).run(victim)
            assert raised.value.connection_invalidated
        with engine.connect() as connection, connection.begin():
            assert Direct(text("SELECT 1")).run(connection).scalar() == 1
    finally:
        engine.dispose()


# ``do_execute`` is a dialect event: it flags the dialect, not the engine or the connection.
@pytest.mark.parametrize("event_name", ["before_cursor_execute", "do_execute"])
def test_listeners_see_every_direct_statement(db: Engine, event_name: str) -> None:
    seen: list[str] = []

    def statement(*args: Any) -> None:  # the SQL is the first text among the arguments
        seen.append(next(arg for arg in args if isinstance(arg, str)))

    event.listen(db, event_name, statement)
    try:
        with db.connect() as connection, connection.begin():
            Direct(INSERT).run(connection, _row("heard"))
            assert Direct(BY_NAME).run(connection, {"name": "heard"}).first() is not None
    finally:
        event.remove(db, event_name, statement)
    assert [sql.split()[0] for sql in seen if "direct_things" in sql] == ["INSERT", "SELECT"]


def test_outside_a_transaction_a_direct_statement_begins_one(db: Engine) -> None:
    with db.connect() as connection:
        Direct(INSERT).run(connection, _row("begun"))
        assert connection.in_transaction()
        connection.rollback()
        assert Direct(BY_NAME).run(connection, {"name": "begun"}).first() is None


def test_a_literal_in_the_sql_is_not_a_parameter(db: Engine) -> None:
    statement = select(things.c.name).where(things.c.name == literal_column("'100%'"))
    with db.connect() as connection, connection.begin():
        Direct(INSERT).run(connection, _row("100%"))
        Direct(INSERT).run(connection, _row("100 percent"))
        assert Direct(statement).run(connection).all() == [("100%",)]


def test_named_rows_are_read_by_column_name_on_either_path(db: Engine) -> None:
    named = Direct(select(things.c.name, things.c.count.label("how_many")), named=True)
    with db.connect() as connection, connection.begin():
        Direct(INSERT).run(connection, _row("counted", count=3))
        (row,) = named.run(connection).all()
        assert (row.name, row.how_many) == ("counted", 3) == tuple(row)


def test_a_value_its_type_cannot_convert_is_sqlalchemys_statement_error(db: Engine) -> None:
    # Upper's bind processor calls .upper(): an int cannot be converted.
    with db.connect() as connection, connection.begin():
        with pytest.raises(StatementError) as raised:
            Direct(INSERT).run(connection, _row("unconvertible", shout=5))
        assert isinstance(raised.value.orig, AttributeError)


def test_a_parameter_naming_a_column_is_set_as_sqlalchemy_sets_it(db: Engine) -> None:
    # An UPDATE's parameters that name a column its values() leave out are SET too.
    with db.connect() as connection, connection.begin():
        Direct(INSERT).run(connection, _row("dated"))
        Direct(COUNT_UP).run(connection, {"which": "dated", "to": 1, "made": date(2020, 1, 2)})
        made = Direct(select(things.c.made)).run(connection).scalar()
    assert made == date(2020, 1, 2)


class _Interrupted(BaseException):
    """Raised from a signal handler, as a worker's timeout or a greenlet's kill raises."""


def test_a_statement_interrupted_midway_invalidates_its_connection(postgres_url: str) -> None:
    engine = create_engine(postgres_url)

    def interrupt(*_: Any) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with engine.connect() as connection:
            connection.begin()
            Direct(text("SELECT 1")).run(connection)
            signal.setitimer(signal.ITIMER_REAL, 0.1)
            with pytest.raises(_Interrupted):
                Direct(text("SELECT pg_sleep(2)")).run(connection)
            signal.setitimer(signal.ITIMER_REAL, 0)
            # As Connection.execute leaves it: invalidated, the driver connection mid-command.
            assert connection.invalidated
            connection.rollback()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        engine.dispose()


def test_an_insert_without_returning_answers_no_rows(db: Engine) -> None:
    # On PostgreSQL the INSERT is compiled with an implicit RETURNING of the new id, for
    # SQLAlchemy's inserted_primary_key: its row is not the statement's.
    statement = insert(things).values({n: bindparam(n) for n in _COLUMNS})
    with db.connect() as connection, connection.begin():
        answered, expected = _both(connection, statement, _row("unreturned"))
    assert answered[0] == expected[0] == []


def test_the_engines_statement_log_shows_every_direct_statement(
    db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")  # as echo=True does
    with db.connect() as connection, connection.begin():
        Direct(INSERT).run(connection, _row("logged"))
        assert Direct(BY_NAME).run(connection, {"name": "logged"}).first() is not None
    logged = [
        r.getMessage().split()[0] for r in caplog.records if "direct_things" in r.getMessage()
    ]
    assert logged == ["INSERT", "SELECT"]
