"""Orders and stocks written back by difference (``shop.adapters.records``) keep every change.

Random histories of changes, a few at a time in each unit of work, against the fakes, SQLite
and PostgreSQL: after every commit the aggregate read back in a new unit of work equals, field for
field, the one that was changed. Plus what a hand-written mapper must not forget: one object
per identity in a unit of work, and a version that moves with every change.
"""

from __future__ import annotations

import contextlib
import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.domain.catalog import Product
from shop.domain.errors import ShopError
from shop.domain.inventory import Stock
from shop.domain.ordering import Address, Order

from .test_repositories import REPOSITORY, NewUow, eur, fields, load, store

SKUS = ("LAMP", "DESK", "SOFA")
BATCHES = ("b-1", "b-2", "b-3")
ADDRESSES = (
    Address("1 Main St", "Berlin", "10115", "DE"),
    Address("2 Rue", "Paris", "75001", "FR"),
)
_ids = itertools.count()

ORDER_STEPS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(SKUS), st.integers(1, 5)),
    st.tuples(st.just("remove"), st.sampled_from(SKUS)),
    st.tuples(st.just("address"), st.sampled_from(ADDRESSES)),
    st.tuples(st.just("place")),
    st.tuples(st.just("allocate"), st.sampled_from(SKUS), st.sampled_from(BATCHES)),
    st.tuples(st.just("deallocate"), st.sampled_from(SKUS)),
    st.tuples(st.just("out_of_stock"), st.sampled_from(SKUS)),
    st.tuples(st.just("ship")),
    st.tuples(st.just("cancel")),
)
STOCK_STEPS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(BATCHES), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("allocate"), st.integers(1, 6)),
    st.tuples(st.just("deallocate"), st.sampled_from(BATCHES), st.integers(1, 3)),
    st.tuples(st.just("quantity"), st.sampled_from(BATCHES), st.integers(0, 20)),
    st.tuples(st.just("ship"), st.sampled_from(BATCHES), st.integers(1, 3)),
)
HISTORIES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def apply_to_order(order: Order, step: tuple[Any, ...]) -> None:
    match step:
        case ("add", sku, quantity):
            order.add_line(sku, sku.title(), eur(1_000), quantity)
        case ("remove", sku):
            order.remove_line(sku)
        case ("address", address):
            order.set_shipping_address(address)
        case ("place",):
            order.place()
        case ("allocate", sku, reference):
            order.line_allocated(sku, reference)
        case ("deallocate", sku):
            order.line_deallocated(sku)
        case ("out_of_stock", sku):
            order.line_out_of_stock(sku)
        case ("ship",):
            order.ship("TRACK-1")
        case ("cancel",):
            order.cancel("changed my mind")


def apply_to_stock(stock: Stock, step: tuple[Any, ...]) -> None:
    match step:
        case ("add", reference, quantity, later):
            eta = date(2027, 1, 2) if later else None
            stock.add_batch(f"{reference}-{stock.sku}", quantity, eta)
        case ("allocate", quantity):
            stock.allocate("o-1", stock.sku, quantity)
        case ("deallocate", reference, quantity):
            stock.deallocate("o-1", stock.sku, quantity, f"{reference}-{stock.sku}")
        case ("quantity", reference, quantity):
            stock.change_batch_quantity(f"{reference}-{stock.sku}", quantity)
        case ("ship", reference, quantity):
            stock.ship("o-1", stock.sku, quantity, f"{reference}-{stock.sku}")


def replay(
    new_uow: NewUow,
    kind: type[Any],
    identity: str,
    groups: list[list[tuple[Any, ...]]],
    versioned: bool,
) -> None:
    """Each group of steps in its own unit of work (a refused step changes nothing, the others
    go on), the aggregate read again between steps; ``versioned``: the store keeps versions
    (the fakes do not: they have no concurrent writers)."""
    apply = apply_to_order if kind is Order else apply_to_stock
    version = load(new_uow, kind, identity).version
    for group in groups:
        with new_uow() as uow:
            repository = getattr(uow, REPOSITORY[kind])
            aggregate = repository.get(identity)
            for step in group:
                with contextlib.suppress(ShopError):
                    apply(aggregate, step)
                assert repository.get(identity) is aggregate  # one object per identity
                if kind is Stock:
                    for batch in aggregate.batches:
                        assert repository.get_by_batch(batch.reference) is aggregate
            changed = bool(aggregate.pending_events)
            uow.commit()
        loaded = load(new_uow, kind, identity)
        assert fields(loaded) == fields(aggregate)
        if versioned:
            assert loaded.version > version if changed else loaded.version == version
            version = loaded.version


def versioned(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params["new_uow"] != "fake")


class TestWrittenBackByDifference:
    @HISTORIES
    @given(steps=st.lists(st.lists(ORDER_STEPS, min_size=1, max_size=4), max_size=6))
    def test_an_order_read_back_after_any_history_is_the_one_changed(
        self, new_uow: NewUow, request: pytest.FixtureRequest, steps: list[list[tuple[Any, ...]]]
    ) -> None:
        order = Order.create(f"o-{next(_ids)}", "c-1", "silver")
        store(new_uow, order)
        replay(new_uow, Order, order.order_id, steps, versioned(request))

    @HISTORIES
    @given(steps=st.lists(st.lists(STOCK_STEPS, min_size=1, max_size=4), max_size=6))
    def test_a_stock_read_back_after_any_history_is_the_one_changed(
        self, new_uow: NewUow, request: pytest.FixtureRequest, steps: list[list[tuple[Any, ...]]]
    ) -> None:
        stock = Stock(sku=f"S-{next(_ids)}")
        store(new_uow, stock)
        replay(new_uow, Stock, stock.sku, steps, versioned(request))

    def test_one_order_and_one_stock_per_identity_in_a_unit_of_work(self, new_uow: NewUow):
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 10)
        order = Order.create("o-1", "c-1")
        store(new_uow, stock, order)
        with new_uow() as uow:
            assert uow.orders.get("o-1") is uow.orders.get("o-1")
            assert uow.stocks.get("LAMP") is uow.stocks.get_by_batch("b-1")
            added = Order.create("o-2", "c-1")
            uow.orders.add(added)
            assert uow.orders.get("o-2") is added

    def test_a_stock_received_without_its_batches_is_completed_when_read_again(
        self, new_uow: NewUow
    ) -> None:
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 10)
        store(new_uow, Product.add("LAMP", "Lamp", eur(1_000)), stock)
        with new_uow() as uow:
            received = uow.stocks.receiving("LAMP", "b-2").stock
            received.add_batch("b-2", 5)
            assert uow.stocks.get_by_batch("b-2") is received  # found before commit
            whole = uow.stocks.get("LAMP")
            assert [batch.reference for batch in whole.batches] == ["b-1", "b-2"]
            whole.allocate("o-1", "LAMP", 3)
            uow.commit()
        loaded = load(new_uow, Stock, "LAMP")
        assert [(b.reference, b.allocated) for b in loaded.batches] == [("b-1", 3), ("b-2", 0)]
