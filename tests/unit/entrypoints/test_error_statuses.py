"""Domain errors become statuses by family: not found 404, rule 409, invalid value 422."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from seedwork.core.errors import ConcurrencyConflict
from shop.domain import commands
from shop.entrypoints.http.app import create_app
from tests.unit.entrypoints.conftest import FakeReadModels, fake_bus
from tests.unit.entrypoints.test_request_translation import CHAIR, fields_of, problem_of

ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}


def customer(client: FlaskClient, tier: str = "bronze") -> str:
    answer = client.post(
        "/customers", json={"name": "Ann", "email": "ann@example.com", "tier": tier}
    )
    assert answer.status_code == 201
    return str(answer.get_json()["customer_id"])


def draft(client: FlaskClient) -> str:
    answer = client.post("/orders", json={"customer_id": customer(client)})
    assert answer.status_code == 201
    order_id = str(answer.get_json()["order_id"])
    assert answer.headers["Location"] == f"/orders/{order_id}"
    return order_id


def test_an_unknown_product_is_not_found(client: FlaskClient):
    problem_of(client.get("/products/NO-SUCH"), 404)
    problem_of(client.put("/products/NO-SUCH/price", json={"price": CHAIR["price"]}), 404)
    problem_of(client.post("/products/NO-SUCH/discontinue"), 404)


def test_a_duplicate_sku_is_a_conflict(client: FlaskClient):
    client.post("/products", json=CHAIR)
    problem_of(client.post("/products", json=CHAIR), 409)


def test_repricing_a_discontinued_product_is_a_conflict(client: FlaskClient):
    client.post("/products", json=CHAIR)
    discontinued = client.post("/products/RED-CHAIR/discontinue")
    assert discontinued.get_json()["active"] is False
    problem_of(client.put("/products/RED-CHAIR/price", json={"price": CHAIR["price"]}), 409)


def test_a_batch_of_an_unknown_sku_is_invalid(client: FlaskClient):
    body = {"reference": "b-1", "sku": "NO-SUCH", "quantity": 5, "eta": None}
    assert "sku" in fields_of(client.post("/batches", json=body))


def test_a_bad_eta_is_invalid(client: FlaskClient):
    client.post("/products", json=CHAIR)
    body = {"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5, "eta": "2026-13-45"}
    assert "eta" in fields_of(client.post("/batches", json=body))


def test_a_new_batch_needs_a_quantity_above_zero(client: FlaskClient):
    client.post("/products", json=CHAIR)
    body = {"reference": "b-1", "sku": "RED-CHAIR", "quantity": 0, "eta": None}
    assert set(fields_of(client.post("/batches", json=body))) == {"quantity"}
    assert client.post("/batches", json={**body, "quantity": 1}).status_code == 201
    lowered = client.put("/batches/b-1/quantity", json={"quantity": 0})
    assert lowered.status_code == 200 and lowered.get_json()["quantity"] == 0


@pytest.mark.parametrize(
    "reference", ["a/b", "/", "a\x01b", ".", "..", "a?b", "a#b", "a\u2028b", " b-1", "\u200b"]
)
def test_a_batch_reference_must_fit_in_its_url(client: FlaskClient, reference: str):
    client.post("/products", json=CHAIR)
    body = {"reference": reference, "sku": "RED-CHAIR", "quantity": 5, "eta": None}
    assert set(fields_of(client.post("/batches", json=body))) == {"reference"}


def test_a_batch_reference_with_a_space_or_percent_sign_can_be_addressed(client: FlaskClient):
    client.post("/products", json=CHAIR)
    body = {"reference": "b 1%", "sku": "RED-CHAIR", "quantity": 5, "eta": None}
    assert client.post("/batches", json=body).status_code == 201
    changed = client.put("/batches/b%201%25/quantity", json={"quantity": 3})
    assert changed.status_code == 200 and changed.get_json()["reference"] == "b 1%"


@pytest.mark.parametrize("eta", ["20261201", "2026-W48-2", "2026-12-1", " 2026-12-01"])
def test_an_eta_must_be_written_yyyy_mm_dd(client: FlaskClient, eta: str):
    client.post("/products", json=CHAIR)
    body = {"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5, "eta": eta}
    assert fields_of(client.post("/batches", json=body)) == {"eta": "must be a date YYYY-MM-DD"}
    assert client.post("/batches", json={**body, "eta": "2026-12-01"}).status_code == 201


def test_an_unknown_tier_or_bad_email_is_invalid(client: FlaskClient):
    assert "tier" in fields_of(
        client.post("/customers", json={"name": "A", "email": "a@b.com", "tier": "iron"})
    )
    assert "email" in fields_of(client.post("/customers", json={"name": "A", "email": "nope"}))


def test_an_order_for_an_unknown_customer_is_invalid(client: FlaskClient):
    assert "customer_id" in fields_of(client.post("/orders", json={"customer_id": "nobody"}))


def test_an_unknown_order_is_not_found(client: FlaskClient):
    problem_of(client.get("/orders/nope"), 404)
    problem_of(client.post("/orders/nope/lines", json={"sku": "RED-CHAIR", "quantity": 1}), 404)
    problem_of(client.post("/orders/nope/place"), 404)


def test_removing_a_line_the_order_lacks_is_not_found(client: FlaskClient):
    problem_of(client.delete(f"/orders/{draft(client)}/lines/RED-CHAIR"), 404)


def test_placing_an_empty_order_is_a_conflict(client: FlaskClient):
    problem_of(client.post(f"/orders/{draft(client)}/place"), 409)


def test_a_line_with_zero_quantity_or_unknown_sku_is_invalid(client: FlaskClient):
    order_id = draft(client)
    client.post("/products", json=CHAIR)
    zero = client.post(f"/orders/{order_id}/lines", json={"sku": "RED-CHAIR", "quantity": 0})
    assert "quantity" in fields_of(zero)
    unknown = client.post(f"/orders/{order_id}/lines", json={"sku": "NO-SUCH", "quantity": 1})
    assert "sku" in fields_of(unknown)


def test_a_bad_country_is_invalid(client: FlaskClient):
    answer = client.put(
        f"/orders/{draft(client)}/shipping-address", json={**ADDRESS, "country": "XX"}
    )
    assert "country" in fields_of(answer)


def test_shipping_an_unconfirmed_order_is_a_conflict(client: FlaskClient):
    problem_of(client.post(f"/orders/{draft(client)}/ship", json={"tracking_number": "T"}), 409)


def test_cancelling_needs_a_reason(client: FlaskClient):
    assert fields_of(client.post(f"/orders/{draft(client)}/cancel", json={})) == {
        "reason": "is required"
    }


def test_an_order_answers_its_view_after_each_change(client: FlaskClient):
    client.post("/products", json=CHAIR)
    client.post("/batches", json={"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5})
    order_id = draft(client)
    added = client.post(f"/orders/{order_id}/lines", json={"sku": "RED-CHAIR", "quantity": 2})
    assert added.status_code == 201
    assert added.get_json()["lines"][0]["line_total"] == {"amount": 25000, "currency": "EUR"}
    assert client.put(f"/orders/{order_id}/shipping-address", json=ADDRESS).status_code == 200
    placed = client.post(f"/orders/{order_id}/place")
    assert placed.status_code == 202
    assert placed.get_json()["status"] == "confirmed"
    assert placed.get_json()["lines"][0]["batch_reference"] == "b-1"


def test_a_conflict_that_outlasts_the_retries_is_409(views: FakeReadModels):
    def always_conflicting(command: commands.AddProduct) -> None:
        raise ConcurrencyConflict("another writer won")

    bus = fake_bus(views, {commands.AddProduct: always_conflicting})
    client = create_app(bus=bus, views=views).test_client()
    problem_of(client.post("/products", json=CHAIR), 409)


def test_an_unreachable_database_is_503_with_retry_after(views: FakeReadModels):
    def database_down(command: commands.AddProduct) -> None:
        raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))

    bus = fake_bus(views, {commands.AddProduct: database_down})
    client = create_app(bus=bus, views=views).test_client()
    answer = client.post("/products", json=CHAIR)
    problem_of(answer, 503)
    assert answer.headers["Retry-After"].isdigit()


def test_health_reports_an_unreachable_database(views: FakeReadModels, client: FlaskClient):
    assert client.get("/health").get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    views.reachable = False
    answer = client.get("/health")
    assert answer.status_code == 503
    assert answer.get_json()["database"] == "unavailable"
