"""Concurrent allocation on PostgreSQL: versions catch every race and the bus retries it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import attrs
import pytest
from sqlalchemy import Engine, func, select

from seedwork.core.errors import ConcurrencyConflict
from shop.adapters import tables as db
from shop.adapters.database import create_database_engine
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain.catalog import Product
from shop.domain.inventory import Stock
from shop.domain.money import Money
from shop.domain.ordering import Address, Order, OrderStatus
from shop.service_layer.handlers import EVENT_HANDLERS
from shop.service_layer.inventory import allocate_line
from shop.views import tables as views

THREADS = 8
ORDERS_PER_THREAD = 6
STOCK = {"b-now": 30, "b-later": 10}


@pytest.fixture
def shop(postgres_url: str) -> Iterator[Shop]:
    engine = create_database_engine(postgres_url)
    for tables in (db.metadata, views.metadata):
        tables.drop_all(engine)
        tables.create_all(engine)
    shop = bootstrap(
        Settings(database_url=postgres_url), engine=engine, event_handlers=EVENT_HANDLERS
    )
    yield shop
    shop.close()


def placed_orders(shop: Shop, count: int, skus: tuple[str, ...] = ("LAMP",)) -> list[str]:
    """Placed orders of one of each sku, stored directly: nobody allocated them yet."""
    with shop.uow_factory() as uow:
        uow.products.add(Product.add("LAMP", "Lamp", Money.of(2_000, "EUR")))
        stock = Stock(sku="LAMP")
        stock.add_batch("b-now", STOCK["b-now"])
        stock.add_batch("b-later", STOCK["b-later"], date(2026, 12, 8))
        uow.stocks.add(stock)
        for n in range(count):
            order = Order.create(f"o-{n}", "c-1")
            for sku in skus:
                order.add_line(sku, sku.title(), Money.of(2_000, "EUR"), 1)
            order.set_shipping_address(Address("1 Main St", "Berlin", "10115", "DE"))
            order.place()
            uow.orders.add(order)
        uow.commit()
    return [f"o-{n}" for n in range(count)]


def test_eight_threads_allocating_one_sku_never_over_allocate_nor_lose_an_update(
    shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    order_ids = placed_orders(shop, THREADS * ORDERS_PER_THREAD)
    start = threading.Barrier(THREADS)

    def allocate(share: list[str]) -> None:
        start.wait()
        for order_id in share:
            shop.bus.handle(c.Allocate(order_id=order_id, sku="LAMP"))

    shares = [order_ids[n::THREADS] for n in range(THREADS)]
    with (
        caplog.at_level(logging.INFO, logger="seedwork.core.bus"),
        ThreadPoolExecutor(THREADS) as pool,
    ):
        for outcome in [pool.submit(allocate, share) for share in shares]:
            outcome.result()  # an error that reached a caller fails here
    assert any("retrying after conflict" in r.message for r in caplog.records), "no race happened"

    with shop.uow_factory() as uow:
        stock = uow.stocks.get("LAMP")
        orders = [uow.orders.get(order_id) for order_id in order_ids]
        uow.commit()
    holding = {reference: 0 for reference in STOCK}
    for order in orders:
        reference = order.lines[0].batch_reference
        if reference is not None:
            holding[reference] += 1
    for batch in stock.batches:
        assert batch.allocated == holding[batch.reference] == STOCK[batch.reference]
    statuses = [order.status for order in orders]
    assert statuses.count(OrderStatus.CONFIRMED) == sum(STOCK.values())
    assert statuses.count(OrderStatus.BACKORDERED) == len(orders) - sum(STOCK.values())
    # Inserted, then once per decision: a line allocated, or a line found waiting.
    assert stock.version == 1 + len(order_ids)
    assert allocated_events(shop.engine) == sum(STOCK.values())


def allocated_events(engine: Engine) -> int:
    outbox = db.seedwork_tables.outbox
    query = select(func.count()).where(outbox.c.type == "LineAllocated")
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_a_change_to_a_batch_alone_conflicts_with_a_concurrent_one(shop: Shop) -> None:
    placed_orders(shop, 2)
    first, second = shop.uow_factory(), shop.uow_factory()
    with first, second:
        first.stocks.get("LAMP").allocate("o-0", "LAMP", 1)
        second.stocks.get("LAMP").allocate("o-1", "LAMP", 1)
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()


def test_a_change_to_an_order_line_alone_conflicts_with_a_concurrent_one(shop: Shop) -> None:
    placed_orders(shop, 1, skus=("LAMP", "DESK"))  # one line allocated: still placed
    first, second = shop.uow_factory(), shop.uow_factory()
    with first, second:
        first.orders.get("o-0").line_allocated("LAMP", "b-now")
        second.orders.get("o-0").line_allocated("LAMP", "b-later")
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()


def test_deciding_that_a_line_waits_conflicts_with_units_arriving_meanwhile(shop: Shop) -> None:
    placed_orders(shop, 1)
    for reference in STOCK:
        shop.bus.handle(c.ChangeBatchQuantity(reference=reference, quantity=0))
    deciding = shop.uow_factory()
    with deciding:
        order = deciding.orders.get("o-0")
        allocate_line(deciding, order, "LAMP")
        assert order.status == OrderStatus.BACKORDERED
        # Units arrive and commit first; their reaction cannot see the line waiting yet.
        shop.bus.handle(c.ChangeBatchQuantity(reference="b-now", quantity=5))
        with pytest.raises(ConcurrencyConflict):
            deciding.commit()
    shop.bus.handle(c.Allocate(order_id="o-0", sku="LAMP"))  # decided again
    with shop.uow_factory() as uow:
        assert uow.orders.get("o-0").status == OrderStatus.CONFIRMED


def test_a_stock_read_again_after_a_concurrent_change_keeps_the_change_made_to_it(
    shop: Shop,
) -> None:
    placed_orders(shop, 1)
    changing = shop.uow_factory()
    with changing:
        stock = changing.stocks.get("LAMP")
        stock.allocate("o-0", "LAMP", 1)
        # A batch of the same stock arrives and commits meanwhile; its reference is then read.
        shop.bus.handle(c.AddBatch(reference="b-new", sku="LAMP", quantity=5))
        try:
            found = changing.stocks.get_by_batch("b-new")
            assert found is None or found is stock
            changing.commit()
        except ConcurrencyConflict:
            return  # decided again from what is now stored: nothing lost
    with shop.uow_factory() as uow:
        allocated = sum(batch.allocated for batch in uow.stocks.get("LAMP").batches)
    assert allocated == 1


def test_a_stock_created_meanwhile_by_another_conflicts_with_a_new_one(shop: Shop) -> None:
    with shop.uow_factory() as uow:
        uow.products.add(Product.add("DESK", "Desk", Money.of(9_000, "EUR")))
        uow.commit()
    creating = shop.uow_factory()
    with pytest.raises(ConcurrencyConflict), creating:
        creating.stocks.add(Stock(sku="DESK"))
        shop.bus.handle(c.AddBatch(reference="b-desk", sku="DESK", quantity=5))
        creating.stocks.get_by_batch("b-desk")
        creating.commit()


def test_batches_received_together_conflict_and_a_line_added_with_a_change(shop: Shop) -> None:
    placed_orders(shop, 1)
    first, second = shop.uow_factory(), shop.uow_factory()
    with first, second:
        for uow, reference in ((first, "b-1"), (second, "b-2")):
            stock = uow.stocks.receiving("LAMP", reference).stock
            assert stock is not None
            stock.add_batch(reference, 3)
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()
    first, second = shop.uow_factory(), shop.uow_factory()
    with first, second:
        first.orders.get("o-0").line_allocated("LAMP", "b-now")
        lines = second.orders.get("o-0").lines
        lines.append(attrs.evolve(lines[0], sku="DESK"))  # one statement with the bump
        first.commit()
        with pytest.raises(ConcurrencyConflict):
            second.commit()


def test_a_change_undone_in_its_unit_of_work_still_conflicts_with_a_concurrent_one(
    shop: Shop,
) -> None:
    # The order ends as it was read, but its events (the revisions) were decided on what was
    # read: written without the version check, the stale snapshot would be projected last.
    with shop.uow_factory() as uow:
        uow.orders.add(Order.create("o-9", "c-1"))
        uow.commit()
    first, second = shop.uow_factory(), shop.uow_factory()
    with first, second:
        undone = first.orders.get("o-9")
        undone.add_line("LAMP", "Lamp", Money.of(1_000, "EUR"), 1)
        undone.remove_line("LAMP")
        second.orders.get("o-9").add_line("LAMP", "Lamp", Money.of(1_000, "EUR"), 2)
        second.commit()
        with pytest.raises(ConcurrencyConflict):
            first.commit()
