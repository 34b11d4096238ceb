"""A small world of its own for the Redis bridge tests: a stock aggregate, its commands and events.

It stands in for the shop so the relay, consumer and recovery sweep are tested through the
real SQLAlchemy unit of work, inbox and outbox, on a real database and a real Redis.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import attrs
from redis import Redis
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, String, Table, select
from sqlalchemy.orm import Session, registry, sessionmaker

from seedwork.core.bus import MessageBus
from seedwork.core.failures import CORE
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Command, Event, MessageRegistry
from seedwork.core.model import AggregateRoot
from seedwork.core.retry import RetryPolicy
from seedwork.core.serialization import Serializer
from seedwork.redis.failures import REDIS
from seedwork.sqlalchemy.failures import DATABASE
from seedwork.sqlalchemy.tables import define_tables
from seedwork.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from seedwork.testing.fakes import FakeDeadLetters


class UnknownStock(Exception):
    """No stock has this reference (a business rule refusal)."""


class DuplicateStock(Exception):
    """A stock with this reference exists."""


def _not_negative(_: Any, attribute: Any, value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0")


@attrs.frozen(kw_only=True)
class AddStock(Command):
    reference: str
    quantity: int = attrs.field(validator=_not_negative)


@attrs.frozen(kw_only=True)
class ChangeStock(Command):
    reference: str
    quantity: int = attrs.field(validator=_not_negative)


@attrs.frozen(kw_only=True)
class RemoveStock(Command):
    """Registered and handled, but not accepted from Redis."""

    reference: str


@attrs.frozen(kw_only=True)
class StockAdded(Event):
    reference: str
    quantity: int


@attrs.frozen(kw_only=True)
class StockChanged(Event):
    reference: str
    quantity: int


@attrs.frozen(kw_only=True)
class StockNoted(Event):
    """Internal: never leaves the process."""

    reference: str
    reactions: int


ACCEPTED = ("AddStock", "ChangeStock")
INTEGRATION = ("StockAdded", "StockChanged")
#: Every transient failure the world can meet, as an application composes them.
FAILURES = CORE | DATABASE | REDIS


@attrs.define(slots=False, eq=False)
class Stock(AggregateRoot):
    identity_field = "reference"
    reference: str
    quantity: int = 0
    changes: int = 0
    reactions: int = 0
    version: int = 0

    def change(self, quantity: int) -> None:
        self.quantity = quantity
        self.changes += 1
        self.record(StockChanged(reference=self.reference, quantity=quantity))

    def react(self) -> None:
        self.reactions += 1
        self.record(StockNoted(reference=self.reference, reactions=self.reactions))


metadata = MetaData()
tables = define_tables(metadata)
stocks = Table(
    "bridge_stocks",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("changes", Integer, nullable=False),
    Column("reactions", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)
registry().map_imperatively(
    Stock, stocks, version_id_col=stocks.c.version, version_id_generator=lambda v: (v or 0) + 1
)


class StockRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, stock: Stock) -> None:
        self.session.add(stock)

    def get(self, reference: str) -> Stock | None:
        return self.session.get(Stock, reference)


class StockUnitOfWork(SqlAlchemyUnitOfWork):
    """The unit of work over the stocks."""

    stocks: StockRepository

    def _open(self, connection: Connection) -> None:
        self.stocks = self.track(StockRepository(self.session))


def add_stock(command: AddStock, uow: StockUnitOfWork) -> None:
    with uow:
        if uow.stocks.get(command.reference) is not None:
            raise DuplicateStock(command.reference)
        stock = Stock(command.reference, command.quantity)
        uow.stocks.add(stock)
        stock.record(StockAdded(reference=command.reference, quantity=command.quantity))
        uow.commit()


def change_stock(command: ChangeStock, uow: StockUnitOfWork) -> None:
    with uow:
        stock = uow.stocks.get(command.reference)
        if stock is None:
            raise UnknownStock(f"no stock {command.reference!r}")
        stock.change(command.quantity)
        uow.commit()


def remove_stock(command: RemoveStock, uow: StockUnitOfWork) -> None:
    raise AssertionError("never reached from Redis")


def react_to_change(event: StockChanged, uow: StockUnitOfWork) -> None:
    """The in-process reaction: count it on the stock (once per event, through the inbox)."""
    with uow:
        uow.stocks.get(event.reference).react()
        uow.commit()


@attrs.define
class World:
    engine: Engine
    serializer: Serializer
    bus: MessageBus
    new_uow: Any

    def stock(self, reference: str) -> Stock | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(stocks).where(stocks.c.reference == reference)).first()
        if row is None:
            return None
        return Stock(row.reference, row.quantity, row.changes, row.reactions, row.version)

    def outbox(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(tables.outbox).order_by(tables.outbox.c.id)))


def build_world(engine: Engine) -> World:
    metadata.drop_all(engine)
    metadata.create_all(engine)
    serializer = Serializer(
        MessageRegistry().add(
            AddStock, ChangeStock, RemoveStock, StockAdded, StockChanged, StockNoted
        )
    )
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def new_uow() -> StockUnitOfWork:
        return StockUnitOfWork(factory, tables, serializer, wake_relays=True)

    bus = MessageBus(
        command_handlers={
            AddStock: add_stock,
            ChangeStock: change_stock,
            RemoveStock: remove_stock,
        },
        event_handlers={StockChanged: [react_to_change]},
        dependencies=Dependencies(factories={"uow": new_uow}),
        dead_letters=FakeDeadLetters(),
        retry=RetryPolicy(conflict_attempts=20, initial_wait=0.002, max_wait=0.05),
    )
    return World(engine=engine, serializer=serializer, bus=bus, new_uow=new_uow)


def stream_messages(redis: Redis, stream: str) -> list[dict[str, Any]]:
    """Every envelope in a stream's ``message`` fields, decoded."""
    return [json.loads(fields[b"message"]) for _, fields in redis.xrange(stream)]


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
