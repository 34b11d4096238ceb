"""Stock over HTTP against a real ``shop run``: the batch counters match the order lines.

CONTRACT §2: for every batch, ``allocated`` equals the quantities of the lines allocated to it
and not yet shipped, and ``0 <= allocated <= quantity``; shipping takes the units out.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.api import Api, unique
from tests.e2e.server import ShopProcess


def held(api: Api, order_ids: list[str], reference: str) -> int:
    """Units the order lines of ``order_ids`` hold in the batch ``reference`` (unshipped)."""
    return sum(
        line["quantity"]
        for order in map(api.order, order_ids)
        if order["status"] != "shipped"
        for line in order["lines"]
        if line["batch_reference"] == reference
    )


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
