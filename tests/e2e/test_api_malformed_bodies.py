"""Property: whatever body is posted to any POST/PUT endpoint, the answer is never a 5xx, and
every 4xx is problem+json; a body with an unknown field is 422 naming it, one with a key twice
in an object is 400 (CONTRACT §2).

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
from shop.entrypoints.http.app import create_app
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
keys = st.sampled_from(FIELDS) | st.text(max_size=8)
objects = st.dictionaries(keys, json_values, max_size=6)


def _object_text(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json.dumps(key)}: {value}" for key, value in pairs) + "}"


@st.composite
def duplicated_keys(draw: st.DrawFn) -> bytes:
    """JSON text of an object with a key twice, at the top or in a nested object."""
    pairs = [(k, json.dumps(v)) for k, v in draw(objects).items()]
    key = draw(keys)
    twice = [*pairs, (key, json.dumps(draw(json_values))), (key, json.dumps(draw(json_values)))]
    twice = draw(st.permutations(twice))
    if draw(st.booleans()):
        return _object_text(twice).encode()
    return _object_text([*pairs, (draw(keys), _object_text(twice))]).encode()


bodies = (
    objects.map(lambda value: ("application/json", json.dumps(value).encode()))
    | json_values.map(lambda value: ("application/json", json.dumps(value).encode()))
    | duplicated_keys().map(lambda raw: ("application/json", raw))
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


def endpoints(order_id: str) -> list[tuple[str, str, frozenset[str] | None]]:
    """Each POST/PUT endpoint, and the fields of its body (None: it has no body)."""
    return [
        ("POST", "/products", frozenset({"sku", "name", "price"})),
        ("PUT", "/products/RED-CHAIR/price", frozenset({"price"})),
        ("POST", "/products/RED-CHAIR/discontinue", None),
        ("POST", "/batches", frozenset({"reference", "sku", "quantity", "eta"})),
        ("PUT", "/batches/b-1/quantity", frozenset({"quantity"})),
        ("POST", "/customers", frozenset({"name", "email", "tier"})),
        ("POST", "/orders", frozenset({"customer_id"})),
        ("POST", f"/orders/{order_id}/lines", frozenset({"sku", "quantity"})),
        (
            "PUT",
            f"/orders/{order_id}/shipping-address",
            frozenset({"street", "city", "postcode", "country"}),
        ),
        ("POST", f"/orders/{order_id}/place", None),
        ("POST", f"/orders/{order_id}/cancel", frozenset({"reason"})),
        ("POST", f"/orders/{order_id}/ship", frozenset({"tracking_number"})),
    ]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_reading(data: bytes) -> Any:
    """The body as JSON, if it is JSON at all (``NaN`` is not); else ``ValueError``."""
    return json.loads(data, parse_constant=_no_constant)


def _has_duplicated_key(data: bytes) -> bool:
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({key for key, _ in items}) < len(items)
        return dict(items)

    try:
        json.loads(data, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return False
    return found


@pytest.mark.parametrize("index", range(12))
def test_any_body_is_answered_strictly_and_never_with_a_server_error(
    client: FlaskClient, index: int
):
    method, path, fields = endpoints(client.order_id)[index]  # type: ignore[attr-defined]

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
            assert answer.headers["Content-Type"] == "application/problem+json"
            problem: Any = answer.get_json(force=True)
            assert problem["status"] == answer.status_code
        if fields is None or content_type != "application/json":
            return
        if _has_duplicated_key(data):
            assert answer.status_code == 400, answer.get_data(as_text=True)
            return
        try:
            body = _strict_reading(data)
        except (ValueError, RecursionError):
            return
        unknown = set(body) - fields if isinstance(body, dict) else set()
        if unknown:
            assert answer.status_code == 422, answer.get_data(as_text=True)
            assert unknown <= {error["field"] for error in problem["errors"]}

    post()
