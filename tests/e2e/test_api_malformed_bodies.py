"""Property: whatever body is posted to any POST/PUT endpoint, the answer is never a 5xx.

The app runs in-process on a real PostgreSQL database (through Flask's test client, for speed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.bootstrap import bootstrap
from shop.config import Settings
from shop.entrypoints.app import create_app
from shop.migrations import upgrade
from tests import services

FIELDS = [
    "sku", "name", "price", "amount", "currency", "reference", "quantity", "eta", "email",
    "tier", "customer_id", "order_id", "street", "city", "postcode", "country", "reason",
    "tracking_number",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(["RED-CHAIR", "b-1", "2026-12-01", "gold", "FR", "EUR", "a@b.co", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
bodies = (
    objects.map(lambda value: ("application/json", json.dumps(value).encode()))
    | json_values.map(lambda value: ("application/json", json.dumps(value).encode()))
    | st.binary(max_size=64).map(lambda raw: ("application/json", raw))
    | st.tuples(st.sampled_from(["text/plain", "", "application/xml"]), st.binary(max_size=32))
)


@pytest.fixture(scope="module")
def client(postgres_url: str) -> Iterator[FlaskClient]:
    with services.fresh_postgres_database() as url:
        shop = bootstrap(Settings(database_url=url))
        upgrade(shop.engine)
        client = create_app(shop=shop).test_client()
        money = {"amount": 1000, "currency": "EUR"}
        client.post("/products", json={"sku": "RED-CHAIR", "name": "Chair", "price": money})
        client.post("/batches", json={"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5})
        customer = client.post("/customers", json={"name": "A", "email": "a@b.co"}).get_json()
        order = client.post("/orders", json=customer).get_json()
        client.order_id = order["order_id"]  # type: ignore[attr-defined]
        try:
            yield client
        finally:
            shop.close()


def endpoints(order_id: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/products"),
        ("PUT", "/products/RED-CHAIR/price"),
        ("POST", "/products/RED-CHAIR/discontinue"),
        ("POST", "/batches"),
        ("PUT", "/batches/b-1/quantity"),
        ("POST", "/customers"),
        ("POST", "/orders"),
        ("POST", f"/orders/{order_id}/lines"),
        ("PUT", f"/orders/{order_id}/shipping-address"),
        ("POST", f"/orders/{order_id}/place"),
        ("POST", f"/orders/{order_id}/cancel"),
        ("POST", f"/orders/{order_id}/ship"),
    ]


@pytest.mark.parametrize("index", range(12))
def test_no_body_ever_causes_a_server_error(client: FlaskClient, index: int):
    method, path = endpoints(client.order_id)[index]  # type: ignore[attr-defined]

    @settings(
        max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(body=bodies)
    def post(body: tuple[str, bytes]) -> None:
        content_type, data = body
        headers = {"Content-Type": content_type} if content_type else {}
        answer = client.open(path, method=method, data=data, headers=headers)
        assert answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True))
        if answer.status_code >= 400:
            problem: Any = answer.get_json(force=True)
            assert problem["status"] == answer.status_code

    post()
