"""Every error status of the contract's table, over HTTP, as problem documents."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.e2e.api import Api, unique
from tests.e2e.server import ShopProcess
from tests.waiting import eventually


@pytest.fixture(scope="module")
def shop(module_shop: ShopProcess) -> ShopProcess:
    """One ``shop run`` for this module: each test uses ids of its own."""
    return module_shop


def problem(answer: requests.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    body: dict[str, object] = answer.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_every_error_status_of_the_contract(shop: ShopProcess):
    api = Api(shop.url)
    url = shop.url
    sku = unique("CHAIR")
    api.product(sku, 100)
    # 400: not JSON, not an object
    problem(requests.post(f"{url}/products", data="{", headers=_json(), timeout=10), 400)
    problem(requests.post(f"{url}/batches", data="[]", headers=_json(), timeout=10), 400)
    # 404: the resource in the path does not exist
    problem(requests.get(f"{url}/orders/{unique('nope')}", timeout=10), 404)
    problem(requests.get(f"{url}/customers/{unique('nope')}/orders", timeout=10), 404)
    problem(requests.put(f"{url}/batches/nope/quantity", json={"quantity": 1}, timeout=10), 404)
    problem(requests.get(f"{url}/stock/{unique('NOPE')}", timeout=10), 404)
    # 409: a business rule forbids it now
    body = {"sku": sku, "name": "again", "price": {"amount": 1, "currency": "EUR"}}
    problem(requests.post(f"{url}/products", json=body, timeout=10), 409)
    order_id = api.draft(api.customer(), {})
    problem(requests.post(f"{url}/orders/{order_id}/place", timeout=10), 409)
    api.call("POST", f"/orders/{order_id}/lines", 201, json={"sku": sku, "quantity": 1})
    dollars = unique("USD")
    api.product(dollars, 100, currency="USD")
    mixed = {"sku": dollars, "quantity": 1}
    problem(requests.post(f"{url}/orders/{order_id}/lines", json=mixed, timeout=10), 409)
    # 413: larger than 1 MiB
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    problem(requests.post(f"{url}/products", data=big, headers=_json(), timeout=10), 413)
    # 415: not application/json
    problem(requests.post(f"{url}/products", data="sku=A1", timeout=10), 415)
    # 422: invalid fields, each named
    bad = {"sku": sku, "quantity": -2}
    invalid = problem(requests.post(f"{url}/orders/{order_id}/lines", json=bad, timeout=10), 422)
    assert invalid["errors"] == [{"field": "quantity", "message": invalid["errors"][0]["message"]}]
    price = {"price": {"amount": -1, "currency": "EUR"}}
    invalid = problem(requests.put(f"{url}/products/{sku}/price", json=price, timeout=10), 422)
    assert invalid["errors"] == [{"field": "price.amount", "message": _message(invalid)}]
    unknown = {"reference": unique("b"), "sku": unique("NOPE"), "quantity": 1, "eta": None}
    problem(requests.post(f"{url}/batches", json=unknown, timeout=10), 422)


def test_a_chunked_body_over_one_mebibyte_is_413_not_truncated(shop: ShopProcess):
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Ann", "email": "ann@example.com"}'
        for _ in range(24):
            yield b" " * 100_000

    answer = requests.post(f"{shop.url}/customers", data=chunks(), headers=_json(), timeout=30)
    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    problem(answer, 413)


def test_an_unreachable_database_answers_503_with_retry_after(
    start_shop: Callable[..., ShopProcess],
):
    closed = _free_port()
    port = _free_port()
    start_shop(
        "api", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        DATABASE_URL=f"postgresql+psycopg://shop@127.0.0.1:{closed}/shop",
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    _wait_for(url)
    body = {"sku": "A1", "name": "a", "price": {"amount": 1, "currency": "EUR"}}
    for answer in (
        requests.post(f"{url}/products", json=body, timeout=10),
        requests.get(f"{url}/orders/o-1", timeout=10),
        requests.get(f"{url}/stock/A1", timeout=10),
    ):
        problem(answer, 503)
        assert int(answer.headers["Retry-After"]) > 0
    health = requests.get(f"{url}/health", timeout=10)
    assert health.status_code == 503
    assert health.json()["database"] == "unavailable"


def _message(body: dict[str, object]) -> object:
    errors = body["errors"]
    assert isinstance(errors, list)
    return errors[0]["message"]


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, timeout: float = 30.0) -> None:
    eventually(
        lambda: requests.get(f"{url}/no-such-path", timeout=2).status_code,
        timeout,
        every=0.1,
        ignoring=(requests.ConnectionError,),
    )
