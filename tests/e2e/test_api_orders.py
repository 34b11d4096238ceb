"""Order stories over HTTP against a real ``shop run``: placed, backordered, cancelled, shipped."""

from __future__ import annotations

import pytest

from tests.e2e.api import ADDRESS, Api, unique
from tests.e2e.server import ShopProcess


@pytest.fixture(scope="module")
def shop(module_shop: ShopProcess) -> ShopProcess:
    """One ``shop run`` for this module: each test uses ids of its own."""
    return module_shop


def money(amount: int) -> dict[str, object]:
    return {"amount": amount, "currency": "EUR"}


def test_the_full_order_story(shop: ShopProcess):
    api = Api(shop.url)
    chair, lamp = unique("CHAIR"), unique("LAMP")
    api.product(chair, 12_500)
    api.product(lamp, 1_999)
    assert api.call("GET", f"/products/{chair}", 200) == {
        "sku": chair, "name": f"{chair} name", "price": money(12_500), "active": True
    }  # fmt: skip
    ship, warehouse, lamps = unique("chairs-ship"), unique("chairs-warehouse"), unique("lamps")
    api.batch(ship, chair, 10, eta="2027-03-01")
    api.batch(warehouse, chair, 5)
    api.batch(lamps, lamp, 100)
    customer_id = api.customer("gold")
    assert api.call("GET", f"/customers/{customer_id}", 200) == {
        "customer_id": customer_id, "name": "Ann Example", "email": "ann@example.com",
        "tier": "gold",
    }  # fmt: skip
    order_id = api.draft(customer_id, {chair: 3, lamp: 2})
    api.call("POST", f"/orders/{order_id}/lines", 201, json={"sku": lamp, "quantity": 1})
    placed = api.place(order_id)
    # 3 x 125.00 + 3 x 19.99 = 434.97; gold 5 % + volume 2 % = 7 % -> 30.45 (30.4479 half-up)
    assert placed == {
        "order_id": order_id,
        "customer_id": customer_id,
        "status": "confirmed",
        "lines": [
            {"sku": chair, "name": f"{chair} name", "quantity": 3, "unit_price": money(12_500),
             "line_total": money(37_500), "batch_reference": warehouse},
            {"sku": lamp, "name": f"{lamp} name", "quantity": 3, "unit_price": money(1_999),
             "line_total": money(5_997), "batch_reference": lamps},
        ],
        "shipping_address": ADDRESS,
        "subtotal": money(43_497),
        "discount": money(3_045),
        "shipping_cost": money(0),
        "total": money(40_452),
    }  # fmt: skip
    assert api.order(order_id) == placed
    stock = api.stock(chair)
    assert stock["available"] == 12
    assert [(b["reference"], b["allocated"]) for b in stock["batches"]] == [
        (warehouse, 3), (ship, 0)
    ]  # fmt: skip
    shipped = api.call("POST", f"/orders/{order_id}/ship", 200, json={"tracking_number": "TRK-1"})
    assert shipped["status"] == "shipped"
    assert api.call("GET", f"/customers/{customer_id}/orders", 200) == {
        "orders": [{"order_id": order_id, "status": "shipped", "total": money(40_452)}]
    }


def test_small_orders_pay_shipping_and_no_discount(shop: ShopProcess):
    api = Api(shop.url)
    pen = unique("PEN")
    api.product(pen, 250)
    api.batch(unique("pens"), pen, 50)
    order_id = api.draft(api.customer(), {pen: 4})
    placed = api.place(order_id)
    # 10.00 subtotal, no discount; 4.99 + 4 x 0.50 = 6.99 shipping.
    assert (placed["subtotal"], placed["discount"], placed["shipping_cost"], placed["total"]) == (
        money(1_000), money(0), money(699), money(1_699)
    )  # fmt: skip


def test_a_backordered_order_is_confirmed_when_stock_arrives(shop: ShopProcess):
    api = Api(shop.url)
    sofa = unique("SOFA")
    api.product(sofa, 50_000)
    api.batch(unique("sofas"), sofa, 1)
    order_id = api.draft(api.customer(), {sofa: 2})
    placed = api.place(order_id)
    assert placed["status"] == "backordered"
    assert placed["lines"][0]["batch_reference"] is None
    arriving = unique("sofas-arriving")
    api.batch(arriving, sofa, 5, eta="2027-01-10")
    confirmed = api.order(order_id)
    assert confirmed["status"] == "confirmed"
    assert confirmed["lines"][0]["batch_reference"] == arriving
    assert api.stock(sofa)["available"] == 4


def test_cancelling_releases_the_stock(shop: ShopProcess):
    api = Api(shop.url)
    desk = unique("DESK")
    api.product(desk, 30_000)
    batch = unique("desks")
    api.batch(batch, desk, 4)
    order_id = api.draft(api.customer(), {desk: 3})
    assert api.place(order_id)["status"] == "confirmed"
    assert api.stock(desk)["available"] == 1
    cancelled = api.call("POST", f"/orders/{order_id}/cancel", 200, json={"reason": "too big"})
    assert cancelled["status"] == "cancelled"
    assert api.stock(desk)["batches"] == [
        {"reference": batch, "eta": None, "quantity": 4, "allocated": 0, "available": 4}
    ]
    api.call("POST", f"/orders/{order_id}/ship", 409, json={"tracking_number": "T"})


def test_lowering_a_batch_moves_lines_elsewhere_or_backorders_them(shop: ShopProcess):
    api = Api(shop.url)
    rug = unique("RUG")
    api.product(rug, 4_000)
    first, second = unique("rugs-a"), unique("rugs-b")
    api.batch(first, rug, 4)
    older = api.draft(api.customer(), {rug: 2})
    newer = api.draft(api.customer(), {rug: 2})
    api.place(older)
    api.place(newer)
    api.batch(second, rug, 2, eta="2027-02-01")
    changed = api.call("PUT", f"/batches/{first}/quantity", 200, json={"quantity": 2})
    assert changed == {
        "reference": first, "sku": rug, "quantity": 2, "allocated": 2, "available": 0, "eta": None
    }  # fmt: skip
    assert api.order(older)["lines"][0]["batch_reference"] == first
    assert api.order(newer)["lines"][0]["batch_reference"] == second


def test_every_read_after_a_2xx_reflects_the_change(shop: ShopProcess):
    api = Api(shop.url)
    vase = unique("VASE")
    api.product(vase, 1_000)
    for price in range(1_001, 1_021):
        api.call("PUT", f"/products/{vase}/price", 200, json={"price": money(price)})
        assert api.call("GET", f"/products/{vase}", 200)["price"] == money(price)
    customer_id = api.customer()
    order_id = api.draft(customer_id, {})
    for quantity in range(1, 11):
        api.call("POST", f"/orders/{order_id}/lines", 201, json={"sku": vase, "quantity": 1})
        assert api.order(order_id)["lines"][0]["quantity"] == quantity
    api.call("DELETE", f"/orders/{order_id}/lines/{vase}", 204)
    assert api.order(order_id)["lines"] == []
    api.call("POST", f"/products/{vase}/discontinue", 200)
    assert api.call("GET", f"/products/{vase}", 200)["active"] is False
    listed = api.call("GET", f"/customers/{customer_id}/orders", 200)["orders"]
    assert [entry["order_id"] for entry in listed] == [order_id]
