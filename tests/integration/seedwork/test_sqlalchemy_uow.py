"""The SQLAlchemy unit of work on SQLite and PostgreSQL: transactions, outbox, inbox, versions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    select,
)
from sqlalchemy.orm import Session, registry, sessionmaker

from seedwork.core.errors import AlreadyHandled, ConcurrencyConflict
from seedwork.core.messages import Command, Envelope, Event, MessageRegistry, utcnow
from seedwork.core.model import AggregateRoot
from seedwork.core.serialization import Serializer
from seedwork.core.uow import Handling
from seedwork.sqlalchemy.tables import define_tables
from seedwork.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from seedwork.sqlalchemy.uow_dialects import ANY, dialect_for


@attrs.frozen(kw_only=True)
class Tallied(Event):
    tally_id: str
    value: int


@attrs.frozen(kw_only=True)
class Recount(Command):
    tally_id: str


@attrs.define(slots=False, eq=False)
class Tally(AggregateRoot):
    identity_field = "tally_id"
    tally_id: str
    value: int = 0
    version: int = 0

    def add(self, amount: int) -> None:
        self.value += amount
        self.record(Tallied(tally_id=self.tally_id, value=self.value))


metadata = MetaData()
tables = define_tables(metadata)
tallies = Table(
    "tallies",
    metadata,
    Column("tally_id", String(20), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)
mapper_registry = registry()
mapper_registry.map_imperatively(
    Tally, tallies, version_id_col=tallies.c.version, version_id_generator=lambda v: (v or 0) + 1
)


class TallyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, tally: Tally) -> None:
        self.session.add(tally)

    def get(self, tally_id: str) -> Tally | None:
        return self.session.get(Tally, tally_id)


class TallyUnitOfWork(SqlAlchemyUnitOfWork):
    tallies: TallyRepository

    def _open(self, connection: Connection) -> None:
        self.tallies = self.track(TallyRepository(self.session))


@pytest.fixture
def new_uow(engine: Engine) -> Iterator[Any]:
    metadata.drop_all(engine)
    metadata.create_all(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    serializer = Serializer(MessageRegistry().add(Tallied))

    def make() -> TallyUnitOfWork:
        return TallyUnitOfWork(factory, tables, serializer)

    yield make
    metadata.drop_all(engine)


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_commit_writes_the_change_and_its_events_to_the_outbox(new_uow: Any, engine: Engine):
    uow = new_uow()
    with uow:
        tally = Tally("t1")
        uow.tallies.add(tally)
        tally.add(5)
        uow.commit()
    [envelope] = list(uow.collect_new_events())
    assert envelope.message == Tallied(tally_id="t1", value=5)
    with engine.connect() as connection:
        row = connection.execute(select(tables.outbox)).one()
    assert row.message_id == envelope.message_id
    assert envelope.log_position == row.id  # handlers learn the event's place in the log
    assert row.type == "Tallied"
    assert row.published_at is None
    assert count(engine, tallies) == 1


def test_leaving_the_block_without_commit_discards_change_and_events(new_uow: Any, engine):
    uow = new_uow()
    with uow:
        tally = Tally("t1")
        uow.tallies.add(tally)
        tally.add(5)
    assert list(uow.collect_new_events()) == []
    assert count(engine, tallies) == 0
    assert count(engine, tables.outbox) == 0


def test_an_error_in_the_block_rolls_back(new_uow: Any, engine: Engine):
    uow = new_uow()
    with pytest.raises(ZeroDivisionError), uow:
        uow.tallies.add(Tally("t1"))
        _ = 1 / 0
    assert count(engine, tallies) == 0


def test_a_failed_commit_yields_no_events_and_writes_no_outbox_row(new_uow: Any, engine):
    first = new_uow()
    with first:
        first.tallies.add(Tally("t1"))
        first.commit()
    second = new_uow()
    with pytest.raises(ConcurrencyConflict), second:
        duplicate = Tally("t1")
        second.tallies.add(duplicate)
        duplicate.add(1)
        second.commit()
    assert list(second.collect_new_events()) == []
    assert count(engine, tables.outbox) == 0


# SQLite serialises writers (BEGIN IMMEDIATE), so two overlapping writers cannot exist there.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_stale_version_is_a_concurrency_conflict(new_uow: Any, engine: Engine):
    setup = new_uow()
    with setup:
        setup.tallies.add(Tally("t1"))
        setup.commit()
    slow, fast = new_uow(), new_uow()
    with slow:
        stale = slow.tallies.get("t1")
        with fast:
            fast.tallies.get("t1").add(1)
            fast.commit()
        stale.add(10)
        with pytest.raises(ConcurrencyConflict):
            slow.commit()
    check = new_uow()
    with check:
        assert check.tallies.get("t1").value == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_stale_version_found_by_an_autoflush_is_a_concurrency_conflict(
    new_uow: Any, engine: Engine
):
    setup = new_uow()
    with setup:
        setup.tallies.add(Tally("t1"))
        setup.commit()
    slow, fast = new_uow(), new_uow()
    with pytest.raises(ConcurrencyConflict), slow:
        stale = slow.tallies.get("t1")
        with fast:
            fast.tallies.get("t1").add(1)
            fast.commit()
        stale.add(10)
        slow.tallies.get("t2")  # the query flushes the stale change first
    check = new_uow()
    with check:
        assert check.tallies.get("t1").value == 1


def test_a_deduplicated_message_is_applied_once(new_uow: Any, engine: Engine):
    envelope = Envelope(message=Tallied(tally_id="x", value=0), dedupe=True)
    applied = 0
    for _ in range(3):
        uow = new_uow()
        uow.handling = Handling(envelope=envelope, handler="h")
        try:
            with uow:
                tally = uow.tallies.get("t1") or Tally("t1")
                uow.tallies.add(tally)
                tally.add(1)
                uow.commit()
                applied += 1
        except AlreadyHandled:
            pass
    assert applied == 1
    assert count(engine, tables.inbox) == 1


@pytest.mark.parametrize("which", ["its own", "any database's"])
def test_the_inbox_claim_of_each_dialect_admits_a_message_once(
    new_uow: Any, engine: Engine, which: str
):
    # Its own: ON CONFLICT DO NOTHING; any database's: a plain insert in a savepoint.
    dialect = dialect_for(engine.dialect.name) if which == "its own" else ANY
    row = {"message_id": "m1", "handler": "h", "processed_at": utcnow()}
    claims = []
    for _ in range(2):
        with engine.begin() as connection:
            claims.append(dialect.claim(connection, tables.inbox, row, relax=False))
    assert claims == [True, False]
    assert count(engine, tables.inbox) == 1


@pytest.fixture
def commit_modes(engine: Engine) -> Iterator[list[str]]:
    """``synchronous_commit`` as each PostgreSQL commit is about to happen."""
    seen: list[str] = []

    def record(connection: Connection) -> None:
        seen.append(connection.exec_driver_sql("SHOW synchronous_commit").scalar())

    event.listen(engine, "commit", record)
    yield seen
    event.remove(engine, "commit", record)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_only_an_event_handler_that_writes_no_event_skips_the_wal_flush(
    new_uow: Any, commit_modes: list[str]
):
    def handle(message: Any, *, changes: bool) -> None:
        uow = new_uow()
        uow.handling = Handling(envelope=Envelope(message=message), handler="h")
        with uow:
            tally = uow.tallies.get("t1") or Tally("t1")
            uow.tallies.add(tally)
            if changes:
                tally.add(1)
            uow.commit()

    handle(Tallied(tally_id="a", value=0), changes=False)  # a reaction with nothing to do
    handle(Tallied(tally_id="b", value=0), changes=True)  # one that writes an event
    handle(Recount(tally_id="t1"), changes=False)  # a command
    assert commit_modes == ["off", "on", "on"]


def test_a_commit_of_thousands_of_events_writes_them_all_in_order(new_uow: Any, engine: Engine):
    uow = new_uow()
    with uow:
        tally = Tally("t1")
        uow.tallies.add(tally)
        for _ in range(1_200):  # more than one INSERT statement's worth
            tally.add(1)
        uow.commit()
    positions = [envelope.log_position for envelope in uow.collect_new_events()]
    assert len(positions) == 1_200
    assert positions == sorted(positions) and None not in positions
    assert count(engine, tables.outbox) == 1_200


def test_events_carry_the_cause_of_the_message_being_handled(new_uow: Any, engine: Engine):
    cause = Envelope(message=Tallied(tally_id="c", value=0))
    uow = new_uow()
    uow.handling = Handling(envelope=cause, handler="h")
    with uow:
        tally = Tally("t1")
        uow.tallies.add(tally)
        tally.add(1)
        uow.commit()
    [event] = list(uow.collect_new_events())
    assert event.causation_id == cause.message_id
    assert event.correlation_id == cause.correlation_id
    with engine.connect() as connection:
        row = connection.execute(select(tables.outbox)).one()
    assert row.causation_id == cause.message_id


def test_concurrent_increments_lose_no_update_with_retries(new_uow: Any, engine: Engine):
    setup = new_uow()
    with setup:
        setup.tallies.add(Tally("t1"))
        setup.commit()
    errors: list[BaseException] = []

    def bump() -> None:
        for _ in range(10):
            for _attempt in range(50):
                uow = new_uow()
                try:
                    with uow:
                        uow.tallies.get("t1").add(1)
                        uow.commit()
                    break
                except ConcurrencyConflict:
                    continue
            else:
                errors.append(RuntimeError("never won"))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = new_uow()
    with check:
        assert check.tallies.get("t1").value == 40
    assert count(engine, tables.outbox) == 40
