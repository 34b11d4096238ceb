"""Inventory: batches of a sku and allocating whole order lines to them."""

from __future__ import annotations

from datetime import date

import pytest

from shop.domain import events
from shop.domain.errors import (
    AllocationMissing,
    BatchNotFound,
    BatchQuantityTooLow,
    DuplicateBatch,
    InvalidValue,
)
from shop.domain.inventory import Stock

TODAY = date(2026, 12, 1)
TOMORROW = date(2026, 12, 2)
LATER = date(2027, 1, 15)


def stock(*batches: tuple[str, int, date | None]) -> Stock:
    result = Stock(sku="LAMP")
    for reference, quantity, eta in batches:
        result.add_batch(reference, quantity, eta)
    result.collect_events()
    return result


def test_adding_a_batch_records_batch_added_alone_as_it_needs_no_other_batch() -> None:
    lamp = Stock(sku="LAMP")
    lamp.add_batch("b1", 10, TOMORROW)
    assert lamp.collect_events() == [
        events.BatchAdded(reference="b1", sku="LAMP", quantity=10, eta=TOMORROW),
    ]


def test_stock_is_offered_to_waiting_lines_only_when_a_batch_can_take_one() -> None:
    lamp = stock(("b1", 10, None))
    lamp.offer([])
    lamp.offer([11, 12])
    assert lamp.collect_events() == []
    lamp.offer([11, 10])
    assert lamp.collect_events() == [events.StockOffered(sku="LAMP")]


def test_a_batch_reference_is_unique() -> None:
    with pytest.raises(DuplicateBatch):
        stock(("b1", 1, None)).add_batch("b1", 5, None)


@pytest.mark.parametrize("quantity", [-1, 1.5, True])
def test_a_batch_quantity_is_a_whole_number_from_zero(quantity: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        Stock(sku="LAMP").add_batch("b1", quantity, None)  # type: ignore[arg-type]
    assert raised.value.field == "quantity"


def test_allocating_takes_from_available_quantity() -> None:
    lamp = stock(("b1", 20, None))
    assert lamp.allocate("o-1", "LAMP", 2) == "b1"
    assert lamp.batch("b1").available == 18
    assert lamp.collect_events()[0] == events.LineAllocated(
        order_id="o-1", sku="LAMP", quantity=2, batch_reference="b1"
    )


def test_prefers_warehouse_stock_to_shipments() -> None:
    lamp = stock(("shipment", 10, TOMORROW), ("warehouse", 10, None))
    assert lamp.allocate("o-1", "LAMP", 1) == "warehouse"


def test_prefers_earlier_shipments() -> None:
    lamp = stock(("later", 10, LATER), ("soon", 10, TODAY), ("medium", 10, TOMORROW))
    assert lamp.allocate("o-1", "LAMP", 1) == "soon"


def test_prefers_the_smallest_reference_among_equals() -> None:
    lamp = stock(("b2", 10, None), ("b1", 10, None))
    assert lamp.allocate("o-1", "LAMP", 1) == "b1"


def test_skips_a_preferred_batch_too_small_for_the_line() -> None:
    lamp = stock(("warehouse", 1, None), ("shipment", 5, TOMORROW))
    assert lamp.allocate("o-1", "LAMP", 2) == "shipment"


def test_never_splits_a_line_between_batches() -> None:
    lamp = stock(("b1", 3, None), ("b2", 3, TOMORROW))
    assert lamp.allocate("o-1", "LAMP", 5) is None
    assert lamp.available == 6
    assert lamp.collect_events() == [events.OutOfStock(order_id="o-1", sku="LAMP")]


def test_a_stock_without_batches_is_out_of_stock() -> None:
    assert Stock(sku="LAMP").allocate("o-1", "LAMP", 1) is None


def test_a_stock_allocates_only_its_own_sku() -> None:
    with pytest.raises(InvalidValue):
        stock(("b1", 3, None)).allocate("o-1", "DESK", 1)


def test_deallocating_gives_the_units_back() -> None:
    lamp = stock(("b1", 10, None))
    lamp.allocate("o-1", "LAMP", 4)
    lamp.collect_events()
    lamp.deallocate("o-1", "LAMP", 4, "b1")
    assert lamp.batch("b1").available == 10
    assert lamp.collect_events()[0] == events.LineDeallocated(
        order_id="o-1", sku="LAMP", quantity=4, batch_reference="b1"
    )


def test_deallocating_more_than_allocated_is_refused() -> None:
    lamp = stock(("b1", 10, None))
    lamp.allocate("o-1", "LAMP", 2)
    with pytest.raises(AllocationMissing):
        lamp.deallocate("o-1", "LAMP", 3, "b1")
    assert lamp.batch("b1").allocated == 2


def test_deallocating_from_an_unknown_batch_is_batch_not_found() -> None:
    with pytest.raises(BatchNotFound):
        stock(("b1", 10, None)).deallocate("o-1", "LAMP", 1, "b9")


def test_raising_a_batch_quantity_keeps_its_allocations() -> None:
    lamp = stock(("b1", 5, None))
    lamp.allocate("o-1", "LAMP", 5)
    lamp.collect_events()
    assert lamp.change_batch_quantity("b1", 8, [("o-1", 5)]) == []
    assert (lamp.batch("b1").quantity, lamp.batch("b1").allocated) == (8, 5)
    assert [type(e).__name__ for e in lamp.collect_events()] == [
        "BatchQuantityChanged",
        "StockRevised",
    ]


def test_lowering_a_batch_deallocates_the_newest_lines_until_it_fits() -> None:
    lamp = stock(("b1", 10, None))
    for order_id, quantity in [("o-1", 3), ("o-2", 3), ("o-3", 3)]:
        lamp.allocate(order_id, "LAMP", quantity)
    lamp.collect_events()
    released = lamp.change_batch_quantity("b1", 5, [("o-3", 3), ("o-2", 3), ("o-1", 3)])
    assert released == [("o-3", 3), ("o-2", 3)]
    assert (lamp.batch("b1").quantity, lamp.batch("b1").allocated) == (5, 3)
    assert lamp.collect_events()[:3] == [
        events.LineDeallocated(order_id="o-3", sku="LAMP", quantity=3, batch_reference="b1"),
        events.LineDeallocated(order_id="o-2", sku="LAMP", quantity=3, batch_reference="b1"),
        events.BatchQuantityChanged(reference="b1", sku="LAMP", quantity=5),
    ]


def test_a_batch_cannot_shrink_below_units_no_order_gives_back() -> None:
    lamp = stock(("b1", 10, None))
    lamp.allocate("o-1", "LAMP", 6)  # the counter knows a line the caller does not offer back
    with pytest.raises(BatchQuantityTooLow):
        lamp.change_batch_quantity("b1", 4, [])
    assert (lamp.batch("b1").quantity, lamp.batch("b1").allocated) == (10, 6)


def test_shipping_takes_the_lines_units_out_of_its_batch() -> None:
    lamp = stock(("b1", 10, None))
    lamp.allocate("o-1", "LAMP", 4)
    lamp.allocate("o-2", "LAMP", 3)
    lamp.collect_events()
    lamp.ship("o-1", "LAMP", 4, "b1")
    batch = lamp.batch("b1")
    assert (batch.quantity, batch.allocated, batch.available) == (6, 3, 3)
    recorded = lamp.collect_events()
    assert recorded[0] == events.BatchQuantityChanged(reference="b1", sku="LAMP", quantity=6)
    assert isinstance(recorded[1], events.StockRevised)
    assert recorded[1].batches == (
        events.BatchView(reference="b1", eta=None, quantity=6, allocated=3, available=3),
    )


def test_shipping_more_than_is_allocated_is_refused() -> None:
    lamp = stock(("b1", 10, None))
    lamp.allocate("o-1", "LAMP", 2)
    with pytest.raises(AllocationMissing):
        lamp.ship("o-1", "LAMP", 3, "b1")
    assert (lamp.batch("b1").quantity, lamp.batch("b1").allocated) == (10, 2)


def test_after_shipping_every_unit_left_allocated_can_be_released() -> None:
    lamp = stock(("b1", 10, None))
    lamp.allocate("o-1", "LAMP", 6)
    lamp.allocate("o-2", "LAMP", 2)
    lamp.ship("o-1", "LAMP", 6, "b1")
    assert lamp.change_batch_quantity("b1", 0, [("o-2", 2)]) == [("o-2", 2)]
    assert (lamp.batch("b1").quantity, lamp.batch("b1").allocated) == (0, 0)


def test_finding_no_stock_is_a_new_version_of_the_stock() -> None:
    # A concurrent change bringing units must conflict with the decision that a line waits.
    lamp = stock(("b1", 1, None))
    before = lamp.version
    assert lamp.allocate("o-1", "LAMP", 2) is None
    assert lamp.version == before + 1


def test_setting_the_same_quantity_records_nothing() -> None:
    lamp = stock(("b1", 10, None))
    assert lamp.change_batch_quantity("b1", 10) == []
    assert lamp.collect_events() == []


def test_changing_an_unknown_batch_is_batch_not_found() -> None:
    with pytest.raises(BatchNotFound):
        stock().change_batch_quantity("b1", 1)


def test_the_snapshot_lists_batches_in_allocation_preference() -> None:
    lamp = stock(("late", 5, LATER), ("here", 5, None))
    lamp.allocate("o-1", "LAMP", 2)
    assert lamp.collect_events()[-1] == events.StockRevised(
        sku="LAMP",
        batches=(events.BatchView("here", None, 5, 2, 3), events.BatchView("late", LATER, 5, 0, 5)),
    )
