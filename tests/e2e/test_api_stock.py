"""Stock over HTTP against a real ``shop run``: the batch counters match the order lines.

CONTRACT §2: for every batch, ``allocated`` equals the quantities of the lines allocated to it
and not yet shipped, and ``0 <= allocated <= quantity``; shipping takes the units out.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.api import Api, unique
from tests.e2e.server import ShopProcess


@pytest.fixture(scope="module")
def shop(module_shop: ShopProcess) -> ShopProcess:
    """One ``shop run`` for this module: each test uses ids of its own."""
    return module_shop


def held(api: Api, order_ids: list[str], reference: str) -> int:
    """Units the order lines of ``order_ids`` hold in the batch ``reference`` (unshipped)."""
    return sum(
        line["quantity"]
        for order in map(api.order, order_ids)
        if order["status"] != "shipped"
        for line in order["lines"]
        if line["batch_reference"] == reference
    )


def test_lowering_a_batch_under_waiting_orders_leaks_no_units(shop: ShopProcess):
    # Issue 10 §1: three backordered orders hold 7 units of B; lowering B to 2 released
    # them all, a stale reaction then cleared a re-allocated line without the counter.
    api = Api(shop.url)
    hot, none = unique("HOT"), unique("NONE")
    api.product(hot, 1_000)
    api.product(none, 1_000)
    batch = unique("B")
    api.batch(batch, hot, 7)
    customer_id = api.customer()
    order_ids = [api.draft(customer_id, {hot: quantity, none: 1}) for quantity in (3, 1, 3)]
    for order_id in order_ids:
        assert api.place(order_id)["status"] == "backordered"
    assert held(api, order_ids, batch) == 7

    lowered = api.call("PUT", f"/batches/{batch}/quantity", 200, json={"quantity": 2})
    assert (lowered["quantity"], lowered["allocated"]) == (2, held(api, order_ids, batch))
    assert lowered["available"] == lowered["quantity"] - lowered["allocated"]
    stock = api.stock(hot)
    assert [(b["quantity"], b["allocated"]) for b in stock["batches"]] == [
        (2, held(api, order_ids, batch))
    ]

    emptied = api.call("PUT", f"/batches/{batch}/quantity", 200, json={"quantity": 0})
    assert (emptied["quantity"], emptied["allocated"], emptied["available"]) == (0, 0, 0)
    assert held(api, order_ids, batch) == 0
    assert all(api.order(order_id)["status"] == "backordered" for order_id in order_ids)


def test_shipping_takes_the_shipped_units_out_of_their_batch(shop: ShopProcess):
    api = Api(shop.url)
    lamp = unique("LAMP")
    api.product(lamp, 2_000)
    batch = unique("lamps")
    api.batch(batch, lamp, 10)
    customer_id = api.customer()
    shipped, kept = api.draft(customer_id, {lamp: 3}), api.draft(customer_id, {lamp: 2})
    assert api.place(shipped)["status"] == "confirmed"
    assert api.place(kept)["status"] == "confirmed"

    api.call("POST", f"/orders/{shipped}/ship", 200, json={"tracking_number": "TRK-1"})
    expected: dict[str, Any] = {
        "reference": batch, "eta": None, "quantity": 7, "allocated": 2, "available": 5
    }  # fmt: skip
    assert api.stock(lamp) == {"sku": lamp, "available": 5, "batches": [expected]}
    # Only the unshipped line can give its units back: lowering to 0 releases it alone.
    emptied = api.call("PUT", f"/batches/{batch}/quantity", 200, json={"quantity": 0})
    assert (emptied["quantity"], emptied["allocated"]) == (0, 0)
    assert api.order(kept)["status"] == "backordered"
    assert api.order(shipped)["status"] == "shipped"
