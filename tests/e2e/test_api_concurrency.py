"""Many clients placing orders on one scarce sku at once: no 5xx, and the stock adds up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.api import ADDRESS, Api, unique
from tests.e2e.server import ShopProcess


@pytest.fixture(scope="module")
def shop(module_shop: ShopProcess) -> ShopProcess:
    """One ``shop run`` for this module: each test uses ids of its own."""
    return module_shop


CLIENTS = 16
ORDERS = 60
STOCK = 50


def test_concurrent_orders_never_oversell(shop: ShopProcess):
    setup = Api(shop.url)
    sku = unique("HOT")
    setup.product(sku, 500)
    setup.batch(unique("hot-a"), sku, 30)
    setup.batch(unique("hot-b"), sku, STOCK - 30, eta="2027-01-01")
    customer_id = setup.customer()
    statuses: list[int] = []

    def order_one(_: int) -> tuple[str, int]:
        http = requests.Session()

        def send(method: str, path: str, **kwargs: object) -> requests.Response:
            answer = http.request(method, f"{shop.url}{path}", timeout=60, **kwargs)  # type: ignore[arg-type]
            statuses.append(answer.status_code)
            return answer

        quantity = 1
        order_id = send("POST", "/orders", json={"customer_id": customer_id}).json()["order_id"]
        send("POST", f"/orders/{order_id}/lines", json={"sku": sku, "quantity": quantity})
        send("PUT", f"/orders/{order_id}/shipping-address", json=ADDRESS)
        send("POST", f"/orders/{order_id}/place")
        return order_id, quantity

    with ThreadPoolExecutor(CLIENTS) as pool:
        placed = list(pool.map(order_one, range(ORDERS)))

    assert [status for status in statuses if status >= 500] == []
    assert set(statuses) <= {200, 201, 202}
    orders = [(setup.order(order_id), quantity) for order_id, quantity in placed]
    assert {order["status"] for order, _ in orders} <= {"confirmed", "backordered"}
    confirmed = sum(quantity for order, quantity in orders if order["status"] == "confirmed")
    stock = setup.stock(sku)
    allocated = sum(batch["allocated"] for batch in stock["batches"])
    assert allocated == confirmed <= STOCK
    assert confirmed == STOCK  # every unit found a buyer: nothing was lost to a conflict
    assert stock["available"] == 0


def test_lowering_a_batch_while_its_orders_ship_never_ships_an_order_without_stock(
    shop: ShopProcess,
):
    setup = Api(shop.url)
    sku = unique("RACE")
    batch = unique("race-b")
    setup.product(sku, 1000)
    setup.batch(batch, sku, 20)
    customer_id = setup.customer()
    orders = [setup.draft(customer_id, {sku: 1}) for _ in range(20)]
    for order_id in orders:
        assert setup.place(order_id)["status"] == "confirmed"

    def lower(_: int) -> int:
        body = {"quantity": 0}
        return requests.put(
            f"{shop.url}/batches/{batch}/quantity", json=body, timeout=60
        ).status_code

    def ship(order_id: str) -> int:
        body = {"tracking_number": "T-1"}
        return requests.post(
            f"{shop.url}/orders/{order_id}/ship", json=body, timeout=60
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        lowered = pool.submit(lower, 0)
        shipped = list(pool.map(ship, orders))
    statuses = [lowered.result(), *shipped]
    assert [status for status in statuses if status >= 500] == []
    assert set(shipped) <= {200, 409}
    views = [setup.order(order_id) for order_id in orders]
    for view in views:
        if view["status"] == "shipped":
            held = [line["batch_reference"] for line in view["lines"]]
            assert held == [batch], (view["order_id"], view["status"], held)
        else:
            assert view["status"] == "backordered", view
    # The shipped units left the batch (CONTRACT v2 §2); lowering it released all the others.
    assert lowered.result() == 200
    remaining = setup.stock(sku)["batches"][0]
    assert (remaining["quantity"], remaining["allocated"]) == (0, 0)
