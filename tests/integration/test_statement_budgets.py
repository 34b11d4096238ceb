"""Statement and transaction budgets per business operation, counted on PostgreSQL.

Production wiring (read models included): every statement the driver is given and every
transaction begun on the engine count, reads of the HTTP answers too. The counts do not
depend on timing, so a change that adds a round trip fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import attrs
import pytest
from sqlalchemy import Engine, event, text

from seedwork.sqlalchemy.direct import Direct
from shop.adapters import tables as db
from shop.adapters.database import create_database_engine
from shop.adapters.repositories import SqlOrders
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain.money import Money
from shop.domain.ordering import Address, Order
from shop.entrypoints.http.app import create_app
from shop.service_layer.inventory import allocate_line
from shop.views import tables as views
from shop.views.queries import SqlReadModels

PRICE = Money.of(2_000, "EUR")


@attrs.define
class Counter:
    """Statements executed and transactions begun on one engine while counting."""

    statements: list[str] = attrs.Factory(list)
    transactions: int = 0
    counting: bool = False

    def count(self) -> Counter:
        """Start again from zero."""
        self.statements.clear()
        self.transactions = 0
        self.counting = True
        return self

    def __enter__(self) -> Counter:
        return self.count()

    def __exit__(self, *exc: object) -> None:
        self.counting = False

    def listen(self, engine: Engine) -> None:
        def statement(_: Any, __: Any, sql: str, *___: Any) -> None:
            if self.counting:
                self.statements.append(" ".join(sql.split())[:90])

        def begin(_: Any) -> None:
            if self.counting:
                self.transactions += 1

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "begin", begin)


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_database_engine(postgres_url)
    for tables in (db.metadata, views.metadata):
        tables.drop_all(engine)
        tables.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def shop(engine: Engine, postgres_url: str) -> Iterator[Shop]:
    shop = bootstrap(Settings(database_url=postgres_url), engine=engine)
    shop.bus.handle(c.AddProduct(sku="LAMP", name="Lamp", price=PRICE))
    shop.bus.handle(c.RegisterCustomer(customer_id="c-1", name="Ada", email="ada@example.com"))
    yield shop
    shop.close()


@pytest.fixture
def counter(engine: Engine) -> Counter:
    counter = Counter()
    counter.listen(engine)
    return counter


def draft(shop: Shop, order_id: str, quantity: int) -> None:
    shop.bus.handle(c.CreateOrder(order_id=order_id, customer_id="c-1"))
    shop.bus.handle(c.AddOrderLine(order_id=order_id, sku="LAMP", quantity=quantity))
    shop.bus.handle(
        c.SetShippingAddress(
            order_id=order_id, street="1 Main St", city="Berlin", postcode="10115", country="DE"
        )
    )


def test_adding_a_batch_is_one_transaction_of_at_most_six_statements(
    shop: Shop, counter: Counter
) -> None:
    shop.bus.handle(c.AddBatch(reference="b-1", sku="LAMP", quantity=10))
    with counter:
        shop.bus.handle(c.AddBatch(reference="b-2", sku="LAMP", quantity=10))
    assert counter.transactions == 1, counter.statements
    assert len(counter.statements) <= 6, counter.statements  # the budget
    assert len(counter.statements) <= 4, counter.statements  # what it takes now: keep it
    stock = SqlReadModels(shop.engine).stock("LAMP")
    assert stock is not None and stock["available"] == 20


def test_placing_an_order_with_its_allocation_is_two_transactions_of_at_most_fourteen_statements(
    shop: Shop, counter: Counter
) -> None:
    shop.bus.handle(c.AddBatch(reference="b-1", sku="LAMP", quantity=10))
    draft(shop, "o-1", 3)
    with counter:
        shop.bus.handle(c.PlaceOrder(order_id="o-1"))
    assert counter.transactions <= 2, counter.statements
    assert len(counter.statements) <= 14, counter.statements  # the budget
    assert len(counter.statements) <= 11, counter.statements  # what it takes now: keep it
    order = SqlReadModels(shop.engine).order("o-1")
    assert order is not None and order["status"] == "confirmed"
    assert order["lines"][0]["batch_reference"] == "b-1"


def test_a_quantity_change_that_moves_one_line_is_at_most_three_transactions(
    shop: Shop, counter: Counter
) -> None:
    shop.bus.handle(c.AddBatch(reference="b-now", sku="LAMP", quantity=10))
    shop.bus.handle(c.AddBatch(reference="b-later", sku="LAMP", quantity=10, eta=date(2027, 1, 5)))
    draft(shop, "o-1", 5)
    shop.bus.handle(c.PlaceOrder(order_id="o-1"))
    with counter:
        shop.bus.handle(c.ChangeBatchQuantity(reference="b-now", quantity=3))
    assert counter.transactions <= 3, counter.statements  # the budget
    assert counter.transactions <= 2, counter.statements  # what it takes now: keep it
    assert len(counter.statements) <= 14, counter.statements
    order = SqlReadModels(shop.engine).order("o-1")
    assert order is not None and order["status"] == "confirmed"
    assert order["lines"][0]["batch_reference"] == "b-later"


def test_the_http_order_story_is_at_most_five_transactions_answers_included(
    shop: Shop, counter: Counter
) -> None:
    shop.bus.handle(c.AddBatch(reference="b-1", sku="LAMP", quantity=10))
    client = create_app(shop=shop).test_client()
    address = {"street": "1 Main St", "city": "Berlin", "postcode": "10115", "country": "DE"}
    with counter:
        created = client.post("/orders", json={"customer_id": "c-1"})
        order_id = created.get_json()["order_id"]
        line = client.post(f"/orders/{order_id}/lines", json={"sku": "LAMP", "quantity": 2})
        addressed = client.put(f"/orders/{order_id}/shipping-address", json=address)
        placed = client.post(f"/orders/{order_id}/place")
    assert counter.transactions <= 5, counter.statements
    assert len(counter.statements) <= 25, counter.statements  # what it takes now: keep it
    assert (created.status_code, line.status_code, addressed.status_code) == (201, 201, 200)
    assert [item["quantity"] for item in line.get_json()["lines"]] == [2]
    assert addressed.get_json()["shipping_address"] == address
    assert placed.status_code == 202
    assert placed.get_json()["status"] == "confirmed"
    assert placed.get_json()["lines"][0]["batch_reference"] == "b-1"
    assert placed.get_json() == client.get(f"/orders/{order_id}").get_json()


def test_with_nobody_listening_every_hot_statement_runs_on_the_driver(shop: Shop) -> None:
    # The budgets above count through a listener, which sends statements through SQLAlchemy;
    # without one, none of the statements of these operations may fall back (ADR 0014).
    before = Direct.fallback_counts()
    shop.bus.handle(c.AddBatch(reference="b-now", sku="LAMP", quantity=10))
    shop.bus.handle(c.AddBatch(reference="b-later", sku="LAMP", quantity=10, eta=date(2027, 1, 5)))
    draft(shop, "o-1", 5)
    shop.bus.handle(c.PlaceOrder(order_id="o-1"))
    shop.bus.handle(c.ChangeBatchQuantity(reference="b-now", quantity=3))  # the line moves
    client = create_app(shop=shop).test_client()
    created = client.post("/orders", json={"customer_id": "c-1"})
    order_id = created.get_json()["order_id"]
    client.post(f"/orders/{order_id}/lines", json={"sku": "LAMP", "quantity": 2})
    address = {"street": "1 Main St", "city": "Berlin", "postcode": "10115", "country": "DE"}
    client.put(f"/orders/{order_id}/shipping-address", json=address)
    assert client.post(f"/orders/{order_id}/place").status_code == 202
    assert Direct.fallbacks_since(before) == {}
    order = SqlReadModels(shop.engine).order("o-1")
    assert order is not None and order["lines"][0]["batch_reference"] == "b-later"


def test_the_lines_a_quantity_change_releases_are_read_on_one_plan_for_every_batch(
    shop: Shop, engine: Engine
) -> None:
    # The server may plan a prepared statement once for all parameters (generic) or again at
    # each execution (custom); with ``LIMIT $n`` it planned the newest lines' read again every
    # time a batch held many lines (a fifth of a millisecond of planning for a few microseconds
    # of work, in every quantity change that released a line).
    shop.bus.handle(c.AddBatch(reference="b-now", sku="LAMP", quantity=500))
    with shop.uow_factory() as uow:
        for n in range(500):
            order = Order.create(f"o-{n}", "c-1")
            order.add_line("LAMP", "Lamp", PRICE, 1)
            order.set_shipping_address(Address("1 Main St", "Berlin", "10115", "DE"))
            order.place()
            uow.orders.add(order)
            allocate_line(uow, order, "LAMP")
        uow.commit()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")  # as autovacuum does within a minute
        orders = SqlOrders(connection)
        for covering in (1, 2, 3) * 4:  # psycopg prepares it at the fifth execution
            assert len(orders.allocated_to("b-now", covering)) == covering
        plans = connection.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE :pattern"
            ),
            {"pattern": "%order_lines.batch_reference = $1%LIMIT%"},
        ).one()
    assert plans.generic_plans > 0 and plans.custom_plans <= 5, plans
