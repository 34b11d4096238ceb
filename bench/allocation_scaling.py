"""The cost of one allocation as a sku's history grows, on PostgreSQL.

Earlier allocations (confirmed orders holding the sku's batch) are bulk-inserted; then
single ``Allocate`` commands go through the real bus and unit of work and are timed.
Goal: the median after 10,000 earlier allocations is at most 1.5x the one after 10.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, func, insert, select, text, update
from sqlalchemy.engine import make_url

from shop.adapters import tables as db
from shop.adapters.database import create_database_engine
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain.money import Money
from shop.domain.ordering import Address, Order
from shop.views import tables as views

ADMIN_URL = os.environ.get(
    "SHOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
HISTORY = (10, 1_000, 10_000)
TIMED = 100
SKU = "LAMP"
BATCH = "b-lamp"


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new PostgreSQL database with the shop's tables, dropped afterwards."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"shop_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_database_engine(url)
        db.metadata.create_all(engine)
        views.metadata.create_all(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wired(url: str) -> Shop:
    """The production wiring: the real bus and unit of work, reactions and read models."""
    return bootstrap(Settings(database_url=url))


def _money(prefix: str, amount: int) -> dict[str, Any]:
    return {f"{prefix}_amount": amount, f"{prefix}_currency": "EUR"}


def seed_history(engine: Engine, start: int, stop: int) -> None:
    """Confirmed orders ``start``..``stop`` holding one unit of the batch each (bulk insert)."""
    amounts = {
        **_money("subtotal", 2_000),
        **_money("discount", 0),
        **_money("shipping_cost", 549),
        **_money("total", 2_549),
    }
    rows = [
        {
            "order_id": f"h-{n}",
            "customer_id": "c-1",
            "tier": "bronze",
            "status": "confirmed",
            "street": "1 Main St",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DE",
            "version": 1,
            **amounts,
        }
        for n in range(start, stop)
    ]
    with engine.begin() as connection:
        newest = connection.scalar(select(func.max(db.order_lines.c.allocation_seq))) or 0
        returning = db.orders.c.id
        ids = connection.scalars(
            insert(db.orders).returning(returning, sort_by_parameter_order=True), rows
        ).all()
        lines = [
            {
                "order_pk": order_pk,
                "sku": SKU,
                "name": "Lamp",
                "quantity": 1,
                "batch_reference": BATCH,
                "allocation_seq": newest + 1 + n - start,
                **_money("unit_price", 2_000),
            }
            for n, order_pk in zip(range(start, stop), ids, strict=True)
        ]
        connection.execute(insert(db.order_lines), lines)
        connection.execute(
            update(db.batches)
            .where(db.batches.c.reference == BATCH)
            .values(allocated=db.batches.c.allocated + (stop - start))
        )


def warm_up(shop: Shop) -> None:
    """Allocate on another sku, so connections and statement caches are warm."""
    for order_id in place_orders(shop, "warm", 50, sku="WARM"):
        shop.bus.handle(c.Allocate(order_id=order_id, sku="WARM"))


def place_orders(
    shop: Shop, prefix: str, count: int, sku: str = SKU, *, placed: bool = True
) -> list[str]:
    """Placed (or draft), unallocated orders of one unit each."""
    with shop.uow_factory() as uow:
        for n in range(count):
            order = Order.create(f"{prefix}-{n}", "c-1")
            order.add_line(sku, "Lamp", Money.of(2_000, "EUR"), 1)
            order.set_shipping_address(Address("1 Main St", "Berlin", "10115", "DE"))
            if placed:
                order.place()
            uow.orders.add(order)
        uow.commit()
    return [f"{prefix}-{n}" for n in range(count)]


def median_allocation(shop: Shop, order_ids: list[str]) -> float:
    """Median seconds of one ``Allocate`` through the bus."""
    times = []
    for order_id in order_ids:
        started = time.perf_counter()
        shop.bus.handle(c.Allocate(order_id=order_id, sku=SKU))
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> dict[str, float]:
    """Time allocations after 10, 1,000 and 10,000 earlier ones; report and return the growth."""
    with fresh_database() as url:
        shop = wired(url)
        try:
            for sku, batch in ((SKU, BATCH), ("WARM", "b-warm")):
                shop.bus.handle(c.AddProduct(sku=sku, name="Lamp", price=Money.of(2_000, "EUR")))
                shop.bus.handle(c.AddBatch(reference=batch, sku=sku, quantity=10_000_000))
            warm_up(shop)
            held, medians = 0, []
            for history in HISTORY:
                seed_history(shop.engine, held, history)
                with shop.engine.begin() as connection:
                    connection.exec_driver_sql("ANALYZE")
                medians.append(median_allocation(shop, place_orders(shop, f"t{history}", TIMED)))
                held = history + TIMED  # the timed allocations are history too
                print(
                    f"   after {history:>6,} allocations  {medians[-1] * 1e3:6.2f} ms median"
                    f" (of {TIMED})"
                )
        finally:
            shop.close()
    print(f"   ratio last/first {medians[-1] / medians[0]:6.2f} x (goal <= 1.5)")
    return {"last/first ratio": medians[-1] / medians[0]}


if __name__ == "__main__":
    main()
