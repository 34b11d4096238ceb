"""Whole shop stories through the real bus and unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from seedwork.core.messages import Message
from shop.adapters import tables as db
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain.money import Money
from shop.domain.ordering import Order, OrderStatus
from shop.service_layer.handlers import EVENT_HANDLERS
from shop.views import tables as views

NEXT_WEEK = date(2026, 12, 8)


class World:
    """A shop on a real database, and what the tests ask of it."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    def __call__(self, *messages: Message) -> None:
        for message in messages:
            self.shop.bus.handle(message)

    def order(self, order_id: str) -> Order:
        with self.shop.uow_factory() as uow:
            order: Order = uow.orders.get(order_id)
            uow.commit()
        return order

    def status(self, order_id: str) -> OrderStatus:
        return self.order(order_id).status

    def batch_of(self, order_id: str, sku: str = "LAMP") -> str | None:
        return self.order(order_id).line(sku).batch_reference

    def batch(self, reference: str) -> tuple[int, int]:
        with self.shop.uow_factory() as uow:
            batch = uow.stocks.get_by_batch(reference).batch(reference)
            uow.commit()
        return batch.quantity, batch.allocated

    def order_placed(self, order_id: str, quantity: int, sku: str = "LAMP") -> None:
        self(
            c.CreateOrder(order_id=order_id, customer_id="c-1"),
            c.AddOrderLine(order_id=order_id, sku=sku, quantity=quantity),
            c.SetShippingAddress(
                order_id=order_id, street="1 Main St", city="Berlin", postcode="10115", country="DE"
            ),
            c.PlaceOrder(order_id=order_id),
        )

    def failed_events(self) -> int:
        table = db.seedwork_tables.failed_events
        with self.shop.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    for tables in (db.metadata, views.metadata):
        tables.drop_all(engine)
        tables.create_all(engine)
    url = engine.url.render_as_string(hide_password=False)
    shop = bootstrap(Settings(database_url=url), engine=engine, event_handlers=EVENT_HANDLERS)
    world = World(shop)
    world(
        c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(2_000, "EUR")),
        c.RegisterCustomer(customer_id="c-1", name="Ada", email="ada@example.com"),
    )
    yield world
    assert world.failed_events() == 0
    shop.close()


def test_an_order_placed_with_stock_in_the_warehouse_is_confirmed(world: World) -> None:
    world(
        c.AddBatch(reference="b-later", sku="LAMP", quantity=10, eta=NEXT_WEEK),
        c.AddBatch(reference="b-now", sku="LAMP", quantity=10),
    )
    world.order_placed("o-1", 3)
    assert world.status("o-1") == OrderStatus.CONFIRMED
    assert world.batch_of("o-1") == "b-now"
    assert world.batch("b-now") == (10, 3)


def test_a_backordered_order_is_confirmed_when_a_batch_arrives(world: World) -> None:
    world(c.AddBatch(reference="b-small", sku="LAMP", quantity=2))
    world.order_placed("o-1", 5)
    world.order_placed("o-2", 4)
    assert world.status("o-1") == world.status("o-2") == OrderStatus.BACKORDERED
    world(c.AddBatch(reference="b-big", sku="LAMP", quantity=5))
    assert (world.status("o-1"), world.batch_of("o-1")) == (OrderStatus.CONFIRMED, "b-big")
    assert world.status("o-2") == OrderStatus.BACKORDERED
    world(c.ChangeBatchQuantity(reference="b-small", quantity=4))
    assert (world.status("o-2"), world.batch_of("o-2")) == (OrderStatus.CONFIRMED, "b-small")


def test_cancelling_an_order_releases_its_stock_to_waiting_orders(world: World) -> None:
    world(c.AddBatch(reference="b-1", sku="LAMP", quantity=5))
    world.order_placed("o-1", 5)
    world.order_placed("o-2", 3)
    world(c.CancelOrder(order_id="o-1", reason="changed my mind"))
    assert world.status("o-1") == OrderStatus.CANCELLED
    assert world.batch_of("o-1") is None
    assert (world.status("o-2"), world.batch_of("o-2")) == (OrderStatus.CONFIRMED, "b-1")
    assert world.batch("b-1") == (5, 3)


def test_lowering_a_batch_reallocates_the_newest_lines_or_backorders_them(world: World) -> None:
    world(
        c.AddBatch(reference="b-1", sku="LAMP", quantity=10),
        c.AddBatch(reference="b-2", sku="LAMP", quantity=3, eta=NEXT_WEEK),
    )
    for order_id, quantity in (("o-1", 4), ("o-2", 3), ("o-3", 3)):
        world.order_placed(order_id, quantity)
    world(c.ChangeBatchQuantity(reference="b-1", quantity=4))
    assert world.batch_of("o-1") == "b-1"
    assert (world.status("o-3"), world.batch_of("o-3")) == (OrderStatus.CONFIRMED, "b-2")
    assert (world.status("o-2"), world.batch_of("o-2")) == (OrderStatus.BACKORDERED, None)
    assert world.batch("b-1") == (4, 4)
    assert world.batch("b-2") == (3, 3)
