"""Orders: lines, address, totals, and the life from draft to shipped or cancelled."""

from __future__ import annotations

import pytest

from shop.domain import events
from shop.domain.errors import (
    CurrencyMismatch,
    InvalidValue,
    LineAlreadyAllocated,
    LineNotFound,
    OrderAlreadyCancelled,
    OrderAlreadyShipped,
    OrderEmpty,
    OrderNotConfirmed,
    OrderNotDraft,
    OrderNotPlaced,
    ShippingAddressMissing,
    TooManyLines,
)
from shop.domain.money import Money
from shop.domain.ordering import MAX_LINES, Address, Order, OrderStatus

HOME = Address("1 Main Street", "Berlin", "10115", "DE")


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


def draft(tier: str = "bronze") -> Order:
    order = Order.create("o-1", "c-1", tier)
    order.collect_events()
    return order


def placed(*lines: tuple[str, int]) -> Order:
    order = draft()
    for sku, quantity in lines or (("CHAIR", 1),):
        order.add_line(sku, sku.title(), eur(1_000), quantity)
    order.set_shipping_address(HOME)
    order.place()
    order.collect_events()
    return order


def kinds(order: Order) -> list[str]:
    return [type(event).__name__ for event in order.collect_events()]


def test_a_new_order_is_an_empty_draft_priced_zero_in_euros() -> None:
    order = Order.create("o-1", "c-1", "gold")
    assert order.status == OrderStatus.DRAFT
    assert order.total == order.subtotal == order.shipping_cost == order.discount == eur(0)
    assert kinds(order) == ["OrderCreated", "OrderRevised"]


def test_adding_a_line_prices_the_order() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(2_000), 2)
    assert order.subtotal == eur(4_000)
    assert order.shipping_cost == eur(599)
    assert order.total == eur(4_599)
    assert order.line("CHAIR").line_total == eur(4_000)


def test_the_same_sku_again_adds_to_its_quantity() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(2_000), 2)
    order.add_line("CHAIR", "Chair", eur(2_000), 3)
    assert [(line.sku, line.quantity) for line in order.lines] == [("CHAIR", 5)]


def test_the_customers_tier_earns_a_discount() -> None:
    order = draft("platinum")
    order.add_line("SOFA", "Sofa", eur(30_000), 1)
    assert order.discount == eur(3_600)  # 2 % volume + 10 % tier
    assert order.total == eur(26_400)


def test_an_order_has_at_most_fifty_lines() -> None:
    order = draft()
    for number in range(MAX_LINES):
        order.add_line(f"SKU-{number}", "Thing", eur(100), 1)
    with pytest.raises(TooManyLines):
        order.add_line("ONE-MORE", "Thing", eur(100), 1)
    order.add_line("SKU-0", "Thing", eur(100), 1)  # an existing line still grows


def test_an_order_has_one_currency() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(100), 1)
    with pytest.raises(CurrencyMismatch):
        order.add_line("DESK", "Desk", Money.of(100, "USD"), 1)


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_line_quantity_is_above_zero(quantity: int) -> None:
    with pytest.raises(InvalidValue) as raised:
        draft().add_line("CHAIR", "Chair", eur(100), quantity)
    assert raised.value.field == "quantity"


def test_removing_the_last_line_prices_the_order_zero_in_euros() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", Money.of(100, "USD"), 1)
    order.remove_line("CHAIR")
    assert order.lines == []
    assert order.total == eur(0)


def test_removing_a_missing_line_is_line_not_found() -> None:
    with pytest.raises(LineNotFound):
        draft().remove_line("CHAIR")


def test_lines_and_address_change_only_in_draft() -> None:
    order = placed()
    with pytest.raises(OrderNotDraft):
        order.add_line("DESK", "Desk", eur(100), 1)
    with pytest.raises(OrderNotDraft):
        order.remove_line("CHAIR")
    with pytest.raises(OrderNotDraft):
        order.set_shipping_address(HOME)


@pytest.mark.parametrize("country", ["XX", "de", "DEU", "", "UK"])
def test_a_country_is_an_iso_alpha_2_code(country: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Address("1 Main Street", "Berlin", "10115", country)
    assert raised.value.field == "country"


@pytest.mark.parametrize("field", ["street", "city", "postcode"])
@pytest.mark.parametrize("value", ["", "  ", "x" * 201])
def test_address_lines_have_one_to_two_hundred_characters(field: str, value: str) -> None:
    parts = {"street": "1 Main Street", "city": "Berlin", "postcode": "10115", field: value}
    with pytest.raises(InvalidValue) as raised:
        Address(**parts, country="DE")
    assert raised.value.field == field


def test_placing_records_the_lines_and_total() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(1_000), 2)
    order.set_shipping_address(HOME)
    order.collect_events()
    order.place()
    assert order.status == OrderStatus.PLACED
    recorded = order.collect_events()
    assert recorded[0] == events.OrderPlaced(
        order_id="o-1",
        customer_id="c-1",
        lines=(events.PlacedLine("CHAIR", 2, eur(1_000)),),
        total=eur(2_599),
    )
    assert isinstance(recorded[-1], events.OrderRevised)


def test_an_empty_order_cannot_be_placed() -> None:
    order = draft()
    order.set_shipping_address(HOME)
    with pytest.raises(OrderEmpty):
        order.place()


def test_an_order_without_address_cannot_be_placed() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(100), 1)
    with pytest.raises(ShippingAddressMissing):
        order.place()


def test_an_order_is_placed_once() -> None:
    with pytest.raises(OrderNotDraft):
        placed().place()


def test_every_line_allocated_confirms_the_order() -> None:
    order = placed(("CHAIR", 1), ("DESK", 1))
    order.line_allocated("CHAIR", "b1")
    assert order.status == OrderStatus.PLACED
    order.line_allocated("DESK", "b2")
    assert order.status == OrderStatus.CONFIRMED
    assert kinds(order) == ["OrderRevised", "OrderConfirmed", "OrderRevised"]


def test_allocating_a_line_twice_to_the_same_batch_is_a_no_op() -> None:
    order = placed()
    order.line_allocated("CHAIR", "b1")
    order.collect_events()
    order.line_allocated("CHAIR", "b1")
    assert order.collect_events() == []


def test_a_line_holds_stock_from_one_batch_at_most() -> None:
    order = placed()
    order.line_allocated("CHAIR", "b1")
    with pytest.raises(LineAlreadyAllocated):
        order.line_allocated("CHAIR", "b2")
    assert order.line("CHAIR").batch_reference == "b1"


def test_a_draft_takes_no_stock() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(100), 1)
    assert not order.awaits_stock("CHAIR")
    with pytest.raises(OrderNotPlaced):
        order.line_allocated("CHAIR", "b1")


def test_a_cancelled_order_takes_no_stock() -> None:
    order = placed()
    order.cancel("changed my mind")
    assert not order.awaits_stock("CHAIR")
    with pytest.raises(OrderAlreadyCancelled):
        order.line_allocated("CHAIR", "b1")


def test_a_line_out_of_stock_backorders_the_order_once() -> None:
    order = placed()
    order.line_out_of_stock("CHAIR")
    order.line_out_of_stock("CHAIR")
    assert order.status == OrderStatus.BACKORDERED
    assert kinds(order) == ["OrderBackordered", "OrderRevised"]


def test_a_backordered_order_is_confirmed_when_stock_arrives() -> None:
    order = placed()
    order.line_out_of_stock("CHAIR")
    order.line_allocated("CHAIR", "b1")
    assert order.status == OrderStatus.CONFIRMED


def test_a_deallocated_line_waits_for_stock_again() -> None:
    order = placed()
    order.line_allocated("CHAIR", "b1")
    order.line_deallocated("CHAIR", "b1")
    assert order.line("CHAIR").batch_reference is None
    assert order.status == OrderStatus.PLACED  # until reallocation says where it stands
    assert order.awaits_stock("CHAIR")
    order.line_out_of_stock("CHAIR")
    assert order.status == OrderStatus.BACKORDERED


def test_an_order_that_lost_stock_cannot_ship_until_allocated_again() -> None:
    order = placed()
    order.line_allocated("CHAIR", "b1")
    order.line_deallocated("CHAIR", "b1")
    with pytest.raises(OrderNotConfirmed):
        order.ship("TRACK-1")
    order.line_allocated("CHAIR", "b2")
    assert order.status == OrderStatus.CONFIRMED
    order.ship("TRACK-1")
    assert order.status == OrderStatus.SHIPPED


def test_deallocating_from_another_batch_leaves_the_line_alone() -> None:
    order = placed()
    order.line_allocated("CHAIR", "b2")
    order.collect_events()
    order.line_deallocated("CHAIR", "b1")
    assert order.line("CHAIR").batch_reference == "b2"
    assert order.collect_events() == []


def test_cancelling_lists_the_lines_holding_stock() -> None:
    order = placed(("CHAIR", 2), ("DESK", 1))
    order.line_allocated("CHAIR", "b1")
    order.collect_events()
    order.cancel("too slow")
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "too slow"
    assert order.collect_events()[0] == events.OrderCancelled(
        order_id="o-1", reason="too slow", released=(events.AllocatedLine("CHAIR", 2, "b1"),)
    )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_cancel_reason_has_one_to_five_hundred_characters(reason: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        placed().cancel(reason)
    assert raised.value.field == "reason"


def test_a_draft_can_be_cancelled() -> None:
    order = draft()
    order.cancel("never mind")
    assert order.status == OrderStatus.CANCELLED


def test_a_shipped_order_cannot_be_cancelled() -> None:
    order = placed()
    order.line_allocated("CHAIR", "b1")
    order.ship("TRACK-1")
    with pytest.raises(OrderAlreadyShipped):
        order.cancel("too late")


def test_an_order_is_cancelled_once() -> None:
    order = placed()
    order.cancel("once")
    with pytest.raises(OrderAlreadyCancelled):
        order.cancel("twice")


def test_only_a_confirmed_order_ships() -> None:
    order = placed()
    with pytest.raises(OrderNotConfirmed):
        order.ship("TRACK-1")
    order.line_allocated("CHAIR", "b1")
    order.collect_events()
    order.ship("TRACK-1")
    assert order.status == OrderStatus.SHIPPED
    assert order.tracking_number == "TRACK-1"
    assert order.collect_events()[0] == events.OrderShipped(
        order_id="o-1", tracking_number="TRACK-1"
    )
    with pytest.raises(OrderAlreadyShipped):
        order.ship("TRACK-2")


@pytest.mark.parametrize("tracking", ["", " ", "x" * 101])
def test_a_tracking_number_has_one_to_a_hundred_characters(tracking: str) -> None:
    order = placed()
    order.line_allocated("CHAIR", "b1")
    with pytest.raises(InvalidValue) as raised:
        order.ship(tracking)
    assert raised.value.field == "tracking_number"


def test_every_change_ends_with_a_snapshot_of_the_order() -> None:
    order = draft()
    order.add_line("CHAIR", "Chair", eur(1_000), 2)
    order.set_shipping_address(HOME)
    snapshot = order.collect_events()[-1]
    assert snapshot == events.OrderRevised(
        order_id="o-1",
        customer_id="c-1",
        status="draft",
        lines=(events.OrderLineView("CHAIR", "Chair", 2, eur(1_000), eur(2_000), None),),
        shipping_address=events.AddressView("1 Main Street", "Berlin", "10115", "DE"),
        subtotal=eur(2_000),
        discount=eur(0),
        shipping_cost=eur(599),
        total=eur(2_599),
    )
