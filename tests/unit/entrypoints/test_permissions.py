"""CONTRACT §4 at the HTTP edge: each endpoint answers each principal as the table promises."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.entrypoints.http.app import create_app
from tests import auth
from tests.permissions import (
    ADDRESS,
    ROWS,
    Endpoint,
    World,
    case_id,
    cases,
    contract_rows,
    rule_pattern,
    visa_of,
)
from tests.unit.entrypoints.conftest import FakeReadModels, client_as, fake_bus


def _routes() -> set[str]:
    views = FakeReadModels()
    app = create_app(bus=fake_bus(views), views=views, tokens=auth.verifier())
    return {
        f"{method} {rule_pattern(rule.rule)}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }


ROUTES = _routes()
CASES = [case for case in cases() if case[1].name in ROUTES]


def build_world(staff: FlaskClient) -> World:
    """A product with a batch, two customers, and a draft and a confirmed order of the first."""
    sku = "MATRIX-CHAIR"
    price = {"amount": 1250, "currency": "EUR"}
    assert (
        staff.post("/products", json={"sku": sku, "name": "Chair", "price": price}).status_code
        == 201
    )
    batch = {"reference": "MATRIX-B1", "sku": sku, "quantity": 10, "eta": None}
    assert staff.post("/batches", json=batch).status_code == 201
    own, other = (
        staff.post("/customers", json={"name": name, "email": f"{name}@example.com"}).json[
            "customer_id"
        ]  # type: ignore[index]
        for name in ("own", "other")
    )

    def order() -> str:
        order_id: str = staff.post("/orders", json={"customer_id": own}).json["order_id"]  # type: ignore[index]
        assert (
            staff.post(f"/orders/{order_id}/lines", json={"sku": sku, "quantity": 1}).status_code
            == 201
        )
        assert staff.put(f"/orders/{order_id}/shipping-address", json=ADDRESS).status_code == 200
        return order_id

    draft, confirmed = order(), order()
    assert staff.post(f"/orders/{confirmed}/place").json["status"] == "confirmed"  # type: ignore[index]
    return World(sku=sku, batch="MATRIX-B1", own=own, other=other, draft=draft, confirmed=confirmed)


def authorization(principal: str, world: World) -> str | None:
    """The header a principal sends (None: anonymous)."""
    if principal == "anonymous":
        return None
    visa = visa_of(principal, world)
    return auth.bearer(visa.role.value, visa.subject, visa.customer_id)


def test_the_table_lists_every_route_and_every_row_is_tested() -> None:
    rows = contract_rows()
    assert set(rows) == set(ROWS), "a row of CONTRACT §4 has no endpoints here, or one left it"
    listed = {endpoint.name for endpoints in ROWS.values() for endpoint in endpoints}
    assert listed >= ROUTES, f"routes missing from the permission table: {ROUTES - listed}"
    tested = {endpoint.name for _, endpoint, _, _ in CASES}
    assert tested == ROUTES


@pytest.mark.parametrize(("row", "endpoint", "principal", "status"), CASES, ids=case_id)
def test_every_endpoint_answers_each_principal_as_the_contract_promises(
    app: Flask, row: str, endpoint: Endpoint, principal: str, status: int
) -> None:
    world = build_world(client_as(app, auth.bearer()))
    client = client_as(app, authorization(principal, world))
    body = endpoint.body(world)
    answer = client.open(endpoint.path(world), method=endpoint.method, json=body)
    assert answer.status_code == status, answer.get_data(as_text=True)
    if status >= 400:
        assert answer.mimetype == "application/problem+json"
        assert answer.json is not None and answer.json["status"] == status
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="shop"'
