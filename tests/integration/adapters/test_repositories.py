"""One repository contract, run against the fakes, SQLite and PostgreSQL, so fakes cannot drift."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import attrs
import pytest
from sqlalchemy.exc import IntegrityError

from seedwork.core.errors import ConcurrencyConflict
from shop.domain.catalog import Product
from shop.domain.customers import Customer
from shop.domain.inventory import Stock
from shop.domain.money import Money
from shop.domain.ordering import Address, Order

NewUow = Callable[[], Any]
REPOSITORY = {Product: "products", Customer: "customers", Order: "orders", Stock: "stocks"}
HOME = Address("1 Main St", "Berlin", "10115", "DE")


def fields(value: Any) -> Any:
    """Every field, recursively, with its exact type: a loaded value must match in both."""
    if attrs.has(type(value)):
        return type(value), {
            f.name: fields(getattr(value, f.name)) for f in attrs.fields(type(value))
        }
    if isinstance(value, list | tuple):
        return [fields(item) for item in value]
    return type(value), value


def store(new_uow: NewUow, *aggregates: Any) -> None:
    with new_uow() as uow:
        for aggregate in aggregates:
            getattr(uow, REPOSITORY[type(aggregate)]).add(aggregate)
        uow.commit()


def load(new_uow: NewUow, kind: type[Any], identity: str) -> Any:
    with new_uow() as uow:
        loaded = getattr(uow, REPOSITORY[kind]).get(identity)
        uow.commit()  # leaving without commit rolls back, which expires what was loaded
    return loaded


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


def placed_order(order_id: str, *lines: tuple[str, int]) -> Order:
    order = Order.create(order_id, "c-1", "gold")
    for sku, quantity in lines:
        order.add_line(sku, sku.title(), eur(1_250), quantity)
    order.set_shipping_address(HOME)
    order.place()
    return order


def allocate(new_uow: NewUow, order_id: str, sku: str, reference: str | None = None) -> None:
    """Allocate a line the way the handlers do: counter and line in one unit of work."""
    with new_uow() as uow:
        order = uow.orders.get(order_id)
        stock = uow.stocks.get(sku)
        if reference is None:
            reference = stock.allocate(order_id, sku, order.line(sku).quantity)
        order.line_allocated(sku, reference)
        uow.commit()


def deallocate(new_uow: NewUow, order_id: str, sku: str) -> None:
    with new_uow() as uow:
        order = uow.orders.get(order_id)
        reference = order.line(sku).batch_reference
        uow.stocks.get(sku).deallocate(order_id, sku, order.line(sku).quantity, reference)
        order.line_deallocated(sku, reference)
        uow.commit()


class TestRepositoryContract:
    """What every implementation of the shop's repositories promises."""

    def test_a_product_round_trips_field_for_field(self, new_uow: NewUow) -> None:
        product = Product.add("LAMP", "Lamp", eur(2_000))
        product.discontinue()
        store(new_uow, product)
        assert fields(load(new_uow, Product, "LAMP")) == fields(product)

    def test_a_changed_product_keeps_its_change(self, new_uow: NewUow) -> None:
        store(new_uow, Product.add("LAMP", "Lamp", eur(2_000)))
        with new_uow() as uow:
            product = uow.products.get("LAMP")
            product.change_price(Money.of(1_999, "USD"))
            uow.commit()
        assert fields(load(new_uow, Product, "LAMP")) == fields(product)

    def test_a_customer_round_trips_field_for_field(self, new_uow: NewUow) -> None:
        customer = Customer.register("c-1", "Ada Lovelace", "Ada@Example.COM", "platinum")
        store(new_uow, customer)
        assert fields(load(new_uow, Customer, "c-1")) == fields(customer)

    def test_a_draft_without_address_round_trips(self, new_uow: NewUow) -> None:
        order = Order.create("o-1", "c-1")
        store(new_uow, order)
        loaded = load(new_uow, Order, "o-1")
        assert loaded.shipping_address is None
        assert fields(loaded) == fields(order)

    def test_an_order_round_trips_with_lines_address_and_totals(self, new_uow: NewUow) -> None:
        order = placed_order("o-1", ("LAMP", 3), ("DESK", 1), ("SOFA", 2))
        order.line_allocated("DESK", "b-desk")
        store(new_uow, order)
        loaded = load(new_uow, Order, "o-1")
        assert [line.sku for line in loaded.lines] == ["LAMP", "DESK", "SOFA"]
        assert fields(loaded) == fields(order)

    def test_a_shipped_or_cancelled_order_round_trips(self, new_uow: NewUow) -> None:
        shipped = placed_order("o-1", ("LAMP", 1))
        shipped.line_allocated("LAMP", "b-1")
        shipped.ship("TRACK-1")
        cancelled = placed_order("o-2", ("LAMP", 1))
        cancelled.cancel("changed my mind")
        store(new_uow, shipped, cancelled)
        assert fields(load(new_uow, Order, "o-1")) == fields(shipped)
        assert fields(load(new_uow, Order, "o-2")) == fields(cancelled)

    def test_changing_and_removing_lines_of_a_draft_is_kept(self, new_uow: NewUow) -> None:
        draft = Order.create("o-1", "c-1")
        draft.add_line("LAMP", "Lamp", eur(100), 1)
        draft.add_line("DESK", "Desk", eur(900), 1)
        store(new_uow, draft)
        with new_uow() as uow:
            order = uow.orders.get("o-1")
            order.remove_line("LAMP")
            order.add_line("DESK", "Desk", eur(900), 2)
            order.add_line("SOFA", "Sofa", eur(500), 1)
            order.set_shipping_address(HOME)
            uow.commit()
        loaded = load(new_uow, Order, "o-1")
        assert [(line.sku, line.quantity) for line in loaded.lines] == [("DESK", 3), ("SOFA", 1)]
        assert fields(loaded) == fields(order)

    def test_a_stock_round_trips_with_its_batches(self, new_uow: NewUow) -> None:
        stock = Stock(sku="LAMP")
        stock.add_batch("b-ship", 20, date(2026, 12, 8))
        stock.add_batch("b-home", 10)
        stock.allocate("o-1", "LAMP", 4)
        store(new_uow, stock)
        loaded = load(new_uow, Stock, "LAMP")
        assert [batch.reference for batch in loaded.batches] == ["b-ship", "b-home"]
        assert fields(loaded) == fields(stock)

    def test_a_batch_added_later_and_a_changed_quantity_are_kept(self, new_uow: NewUow) -> None:
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 10)
        store(new_uow, stock)
        with new_uow() as uow:
            stock = uow.stocks.get("LAMP")
            stock.add_batch("b-2", 5, date(2027, 1, 2))
            stock.change_batch_quantity("b-1", 7)
            uow.commit()
        assert fields(load(new_uow, Stock, "LAMP")) == fields(stock)

    def test_a_stock_is_found_by_any_of_its_batches(self, new_uow: NewUow) -> None:
        lamp, desk = Stock(sku="LAMP"), Stock(sku="DESK")
        lamp.add_batch("b-1", 10)
        lamp.add_batch("b-2", 10)
        desk.add_batch("b-3", 10)
        store(new_uow, lamp, desk)
        with new_uow() as uow:
            assert uow.stocks.get_by_batch("b-2").sku == "LAMP"
            assert fields(uow.stocks.get_by_batch("b-3")) == fields(desk)
            assert uow.stocks.get_by_batch("b-404") is None
            assert uow.stocks.has_batch("b-3") and not uow.stocks.has_batch("b-404")

    def test_unknown_identities_are_none(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            assert uow.products.get("NOPE") is None
            assert uow.customers.get("nobody") is None
            assert uow.orders.get("o-404") is None
            assert uow.stocks.get("NOPE") is None

    def test_waiting_lines_are_unallocated_lines_of_backordered_orders_oldest_first(
        self, new_uow: NewUow
    ) -> None:
        orders = {n: placed_order(f"o-{n}", ("LAMP", n), ("DESK", 1)) for n in range(1, 6)}
        for n in (2, 3, 4, 5):
            orders[n].line_out_of_stock("LAMP")
        orders[3].line_allocated("LAMP", "b-1")  # its LAMP line no longer waits
        orders[4].cancel("too slow")  # not backordered any more
        draft = Order.create("o-0", "c-1")
        draft.add_line("LAMP", "Lamp", eur(1), 1)
        # Stored in this order: o-5 is older than o-2.
        store(new_uow, draft, orders[5], orders[4], orders[1], orders[2], orders[3])
        with new_uow() as uow:
            assert uow.orders.waiting_for("LAMP") == [("o-5", 5), ("o-2", 2)]
            assert uow.orders.waiting_for("DESK") == [("o-5", 1), ("o-2", 1), ("o-3", 1)]
            assert uow.orders.waiting_for("SOFA") == []

    def test_lines_holding_a_batch_come_newest_allocation_first(self, new_uow: NewUow) -> None:
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 100)
        stock.add_batch("b-2", 100, date(2027, 1, 2))
        orders = [placed_order(f"o-{n}", ("LAMP", n)) for n in range(1, 6)]
        store(new_uow, stock, *orders)
        for order_id in ("o-2", "o-4", "o-1", "o-3"):
            allocate(new_uow, order_id, "LAMP")
        allocate(new_uow, "o-5", "LAMP", "b-2")
        deallocate(new_uow, "o-4", "LAMP")
        allocate(new_uow, "o-4", "LAMP")  # allocated again: now the newest
        with new_uow() as uow:
            uow.orders.get("o-1").ship("TRACK-1")  # shipped lines cannot give stock back
            uow.commit()
        with new_uow() as uow:
            assert uow.orders.allocated_to("b-1") == [("o-4", 4), ("o-3", 3), ("o-2", 2)]
            assert uow.orders.allocated_to("b-2") == [("o-5", 5)]
            assert uow.orders.allocated_to("b-404") == []

    def test_lines_covering_some_units_are_the_newest_that_reach_them(
        self, new_uow: NewUow
    ) -> None:
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 100)
        orders = [placed_order(f"o-{n}", ("LAMP", n)) for n in range(1, 5)]
        store(new_uow, stock, *orders)
        for order_id in ("o-2", "o-4", "o-1", "o-3"):
            allocate(new_uow, order_id, "LAMP")
        with new_uow() as uow:
            every = uow.orders.allocated_to("b-1")
            assert every == [("o-3", 3), ("o-1", 1), ("o-4", 4), ("o-2", 2)]
            for units in range(1, 12):
                found = uow.orders.allocated_to("b-1", units)
                assert found == every[: len(found)]  # the newest, in order
                reached = [sum(q for _, q in found[:n]) >= units for n in range(len(found) + 1)]
                assert any(reached) or found == every  # enough of them, or all there are
                assert len(found) <= units
            assert uow.orders.allocated_to("b-404", 3) == []


class TestReviewedEdges:
    """Corners of writing by difference, each a change made in one unit of work."""

    @pytest.mark.parametrize("quantity", [1, 3])
    def test_a_line_removed_and_added_again_comes_back_last(
        self, new_uow: NewUow, quantity: int
    ) -> None:
        order = Order.create("o-1", "c-1", "gold")
        for sku in ("LAMP", "DESK", "RUG"):
            order.add_line(sku, sku.title(), eur(1_250), 1)
        store(new_uow, order)
        with new_uow() as uow:
            changed = uow.orders.get("o-1")
            changed.remove_line("LAMP")
            changed.add_line("LAMP", "Lamp", eur(1_250), quantity)
            uow.commit()
        assert fields(load(new_uow, Order, "o-1")) == fields(changed)

    def test_a_failed_flush_of_the_orm_writes_nothing_of_the_stocks(
        self, new_uow: NewUow, request: Any
    ) -> None:
        if request.node.callspec.params["new_uow"] == "fake":
            return  # the fakes have no flush that can fail
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 10)
        store(new_uow, Product.add("LAMP", "Lamp", eur(1_000)), stock)
        with pytest.raises((IntegrityError, ConcurrencyConflict)), new_uow() as uow:
            uow.stocks.get("LAMP").batch("b-1").quantity = 3
            uow.products.add(Product.add("LAMP", "Lamp again", eur(1_000)))
            uow.commit()
        with new_uow() as uow:
            assert uow.stocks.get("LAMP").batch("b-1").quantity == 10
            assert uow.products.get("LAMP").name == "Lamp"
            uow.commit()

    def test_lines_allocated_in_one_unit_of_work_are_numbered_in_turn(
        self, new_uow: NewUow
    ) -> None:
        stock = Stock(sku="LAMP")
        stock.add_batch("b-1", 100)
        store(new_uow, stock, placed_order("o-1", ("LAMP", 1)))
        with new_uow() as uow:
            lamp = uow.stocks.get("LAMP")
            for order_id, quantity in (("o-2", 2), ("o-3", 3)):
                new = placed_order(order_id, ("LAMP", quantity))
                new.line_allocated("LAMP", lamp.allocate(order_id, "LAMP", quantity))
                uow.orders.add(new)  # a new order whose line holds a batch already
            old = uow.orders.get("o-1")
            old.line_allocated("LAMP", lamp.allocate("o-1", "LAMP", 1))
            uow.commit()
        with new_uow() as uow:
            assert uow.orders.allocated_to("b-1") == [("o-1", 1), ("o-3", 3), ("o-2", 2)]
            assert uow.stocks.get("LAMP").batch("b-1").allocated == 6
