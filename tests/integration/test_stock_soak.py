"""Eight threads change a PostgreSQL shop for 20 s: no unit leaks, no order waits beside free stock.

Orders are placed, cancelled and shipped while batches are added, raised and lowered, all through
the real bus (reactions and projections in-process). At the end, for every batch, ``allocated`` is
the sum of its unshipped lines and ``0 <= allocated <= quantity`` (CONTRACT §2); every placed
order was decided; no backordered order has a line some batch of its sku could take; the read
model shows the write model's stock; no reaction was given up on.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from seedwork.core.errors import ConcurrencyConflict
from shop.adapters import tables as db
from shop.adapters.failed_events import SqlFailedEvents
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain.errors import RuleViolation
from shop.domain.money import Money
from shop.domain.ordering import Order, OrderStatus
from shop.migrations import upgrade
from shop.views.queries import SqlReadModels
from tests import services

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

THREADS = 8
SECONDS = 20.0
SKUS = ("HOT", "WARM", "NONE")


@pytest.fixture
def shop(postgres_url: str) -> Iterator[Shop]:
    """A migrated shop on a PostgreSQL database of this test's own."""
    with services.fresh_postgres_database() as url:
        shop = bootstrap(Settings(database_url=url))
        try:
            upgrade(shop.engine)
            yield shop
        finally:
            shop.close()


class Story:
    """What one thread does next, at random, with ids of its own."""

    def __init__(self, shop: Shop, worker: int, shared: list[str], batches: list[str]) -> None:
        self.shop = shop
        self.worker = worker
        self.random = random.Random(worker)
        self.orders = shared
        self.batches = batches
        self.counts: Counter[str] = Counter()

    def step(self) -> None:
        action = self.random.choices(
            [self.place, self.change_quantity, self.add_batch, self.cancel, self.ship],
            weights=[35, 30, 5, 12, 18],
        )[0]
        try:
            action()
            self.counts[action.__name__] += 1
        except RuleViolation:
            self.counts["refused"] += 1
        except ConcurrencyConflict:
            self.counts["gave up after conflicts"] += 1

    def place(self) -> None:
        order_id = (
            f"o-{self.worker}-{self.counts['place'] + self.counts['refused']}-{time.time_ns()}"
        )
        handle = self.shop.bus.handle
        handle(c.CreateOrder(order_id=order_id, customer_id="c-1"))
        for sku in self.random.sample(SKUS, self.random.randint(1, 2)):
            handle(c.AddOrderLine(order_id=order_id, sku=sku, quantity=self.random.randint(1, 3)))
        handle(
            c.SetShippingAddress(
                order_id=order_id, street="1 Main St", city="Lyon", postcode="69001", country="FR"
            )
        )
        handle(c.PlaceOrder(order_id=order_id))
        self.orders.append(order_id)

    def change_quantity(self) -> None:
        reference = self.random.choice(self.batches)
        quantity = self.random.randint(0, 12)
        self.shop.bus.handle(c.ChangeBatchQuantity(reference=reference, quantity=quantity))

    def add_batch(self) -> None:
        reference = f"b-{self.worker}-{time.time_ns()}"
        sku = self.random.choice(SKUS[:2])
        self.shop.bus.handle(c.AddBatch(reference=reference, sku=sku, quantity=5))
        self.batches.append(reference)

    def cancel(self) -> None:
        if self.orders:
            order_id = self.random.choice(self.orders)
            self.shop.bus.handle(c.CancelOrder(order_id=order_id, reason="soak"))

    def ship(self) -> None:
        if self.orders:
            order_id = self.random.choice(self.orders)
            self.shop.bus.handle(c.ShipOrder(order_id=order_id, tracking_number="T-1"))


def run_for(seconds: float, stories: list[Story]) -> None:
    """Each story steps in its own thread until the time is up; an unexpected error fails."""
    deadline = time.monotonic() + seconds
    errors: list[BaseException] = []

    def work(story: Story) -> Callable[[], None]:
        def loop() -> None:
            try:
                while time.monotonic() < deadline:
                    story.step()
            except BaseException as error:  # reported by the test
                errors.append(error)

        return loop

    threads = [threading.Thread(target=work(story)) for story in stories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_eight_threads_for_twenty_seconds_leak_no_stock_and_strand_no_order(shop: Shop) -> None:
    handle = shop.bus.handle
    for sku in SKUS:
        handle(c.AddProduct(sku=sku, name=sku.title(), price=Money.of(1_000, "EUR")))
    handle(c.RegisterCustomer(customer_id="c-1", name="Ada", email="ada@example.com"))
    batches = ["b-hot-1", "b-hot-2", "b-warm-1"]
    for reference, sku, quantity in zip(batches, ("HOT", "HOT", "WARM"), (7, 4, 6), strict=True):
        handle(c.AddBatch(reference=reference, sku=sku, quantity=quantity))
    shared: list[str] = []
    stories = [Story(shop, worker, shared, batches) for worker in range(THREADS)]

    started = time.monotonic()
    run_for(SECONDS, stories)
    elapsed = time.monotonic() - started

    counts = sum((story.counts for story in stories), Counter[str]())
    print(f"soak: {dict(counts)} in {elapsed:.1f} s")  # the figures, with -s
    assert counts["place"] >= 20 and counts["ship"] >= 1 and counts["change_quantity"] >= 20
    failed = SqlFailedEvents(shop.engine, db.seedwork_tables.failed_events, shop.serializer)
    assert failed.count_unreplayed() == 0  # no reaction was given up on
    check_stock_and_orders(shop)


def check_stock_and_orders(shop: Shop) -> None:
    """CONTRACT §2 per batch, every placed order decided, none waiting beside stock it fits."""
    views = SqlReadModels(shop.engine)
    with shop.uow_factory() as uow:
        orders: list[Order] = [uow.orders.get(order_id) for order_id in all_order_ids(shop)]
        stocks = {sku: uow.stocks.get(sku) for sku in SKUS}
        for sku, stock in stocks.items():
            if stock is None:
                continue
            for batch in stock.batches:
                held = sum(
                    line.quantity
                    for order in orders
                    if order.status != OrderStatus.SHIPPED
                    for line in order.lines
                    if line.batch_reference == batch.reference
                )
                assert (batch.allocated, 0 <= batch.allocated <= batch.quantity) == (held, True), (
                    batch
                )
            shown = views.stock(sku)
            assert shown is not None
            assert {b["reference"]: (b["quantity"], b["allocated"]) for b in shown["batches"]} == {
                b.reference: (b.quantity, b.allocated) for b in stock.batches
            }
        for order in orders:
            assert order.status != OrderStatus.PLACED, order
            if order.status == OrderStatus.BACKORDERED:
                for line in order.lines:
                    stock = stocks[line.sku]
                    if not line.allocated and stock is not None:
                        assert not stock.can_allocate(line.quantity), (order, stock)


def all_order_ids(shop: Shop) -> list[str]:
    with shop.engine.connect() as connection:
        return list(connection.execute(select(db.orders.c.order_id)).scalars())
