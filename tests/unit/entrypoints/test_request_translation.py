"""Bodies become commands, or precise problems: 400, 413, 415, 422 — never a 500."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient

from shop.entrypoints.http.app import MAX_BODY

CHAIR = {"sku": "RED-CHAIR", "name": "Red chair", "price": {"amount": 12500, "currency": "EUR"}}


def problem_of(answer, status: int) -> dict:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.headers["Content-Type"] == "application/problem+json"
    body = answer.get_json(force=True)
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


def fields_of(answer) -> dict[str, str]:
    body = problem_of(answer, 422)
    return {error["field"]: error["message"] for error in body["errors"]}


def test_a_valid_body_becomes_a_product(client: FlaskClient):
    answer = client.post("/products", json=CHAIR)
    assert answer.status_code == 201
    assert answer.get_json() == {"sku": "RED-CHAIR"}
    shown = client.get("/products/RED-CHAIR").get_json()
    assert shown == {**CHAIR, "active": True}


def test_negative_money_names_the_nested_field(client: FlaskClient):
    body = {**CHAIR, "price": {"amount": -1, "currency": "EUR"}}
    assert "price.amount" in fields_of(client.post("/products", json=body))


def test_a_missing_nested_field_is_required(client: FlaskClient):
    body = {**CHAIR, "price": {"amount": 1}}
    assert fields_of(client.post("/products", json=body)) == {"price.currency": "is required"}


def test_every_wrongly_typed_field_is_named(client: FlaskClient):
    answer = client.post("/products", json={"sku": 7, "name": ["x"]})
    assert set(fields_of(answer)) == {"sku", "name", "price"}


def test_a_field_rule_names_its_field(client: FlaskClient):
    answer = client.post("/products", json={**CHAIR, "sku": "lower-case"})
    assert set(fields_of(answer)) == {"sku"}


def test_a_bad_currency_is_invalid(client: FlaskClient):
    body = {**CHAIR, "price": {"amount": 1, "currency": "euro"}}
    assert "price.currency" in fields_of(client.post("/products", json=body))


def test_huge_integers_are_invalid_not_a_database_failure(client: FlaskClient):
    body = {**CHAIR, "price": {"amount": 10**40, "currency": "EUR"}}
    assert "price.amount" in fields_of(client.post("/products", json=body))


def test_nul_characters_are_invalid(client: FlaskClient):
    assert "name" in fields_of(client.post("/products", json={**CHAIR, "name": "a\x00b"}))


def test_a_lone_surrogate_is_invalid(client: FlaskClient):
    body = '{"sku": "RED-CHAIR", "name": "\\ud800", "price": {"amount": 1, "currency": "EUR"}}'
    answer = client.post("/products", data=body, content_type="application/json")
    assert "name" in fields_of(answer)


@pytest.mark.parametrize("text", ["{", "[1, 2]", '"text"', "null", "NaN", '{"a": Infinity}'])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(client: FlaskClient, text: str):
    problem_of(client.post("/products", data=text, content_type="application/json"), 400)


def test_deeply_nested_json_is_a_bad_request(client: FlaskClient):
    text = "[" * 100_000 + "]" * 100_000
    problem_of(client.post("/products", data=text, content_type="application/json"), 400)


def test_invalid_utf8_is_a_bad_request(client: FlaskClient):
    answer = client.post("/products", data=b'{"sku": "\xff"}', content_type="application/json")
    problem_of(answer, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_that_is_not_json_is_unsupported(client: FlaskClient, content_type):
    answer = client.post("/products", data='{"sku": "A1"}', content_type=content_type)
    problem_of(answer, 415)


def test_json_with_a_charset_is_accepted(client: FlaskClient):
    answer = client.post(
        "/products", json=CHAIR, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert answer.status_code == 201


def test_a_body_over_one_mebibyte_is_too_large(client: FlaskClient):
    body = b'{"name": "' + b"x" * MAX_BODY + b'"}'
    problem_of(client.post("/products", data=body, content_type="application/json"), 413)


def _chunked(client: FlaskClient, body: bytes):
    """POST a body the way a server hands over a chunked one: no Content-Length, terminated."""
    return client.post(
        "/customers",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_one_mebibyte_is_too_large_not_truncated(client: FlaskClient):
    valid = b'{"name": "Ann", "email": "ann@example.com"}'
    problem_of(_chunked(client, valid + b" " * (MAX_BODY - len(valid) + 1)), 413)
    problem_of(_chunked(client, valid + b" " * 2_400_000), 413)


def test_a_chunked_body_of_exactly_one_mebibyte_is_accepted(client: FlaskClient):
    valid = b'{"name": "Ann", "email": "ann@example.com"}'
    assert _chunked(client, valid + b" " * (MAX_BODY - len(valid))).status_code == 201


def test_a_large_body_is_refused_on_a_body_less_endpoint_too(client: FlaskClient):
    answer = client.post("/orders/o-1/place", data=b"x" * (MAX_BODY + 1))
    problem_of(answer, 413)


def test_path_ids_that_cannot_exist_are_not_found(client: FlaskClient):
    problem_of(client.get("/products/" + "A" * 33), 404)
    problem_of(client.get("/orders/%00"), 404)
    problem_of(client.put("/products/%20/price", json={"price": CHAIR["price"]}), 404)


def test_body_fields_cannot_override_path_ids(client: FlaskClient):
    client.post("/products", json=CHAIR)
    client.post("/products", json={**CHAIR, "sku": "BLUE-CHAIR"})
    price = {"amount": 999, "currency": "EUR"}
    answer = client.put("/products/RED-CHAIR/price", json={"sku": "BLUE-CHAIR", "price": price})
    assert set(fields_of(answer)) == {"sku"}
    assert client.get("/products/BLUE-CHAIR").get_json()["price"] == CHAIR["price"]
    assert client.get("/products/RED-CHAIR").get_json()["price"] == CHAIR["price"]


def test_a_wrong_method_is_a_problem(client: FlaskClient):
    problem_of(client.delete("/products"), 405)


def test_a_wrong_method_answer_says_which_methods_are_allowed(client: FlaskClient):
    answer = client.delete("/products/RED-CHAIR")
    problem_of(answer, 405)
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize("price", [5, "12.50", [1250, "EUR"], None])
def test_money_that_is_not_an_object_is_named_plainly(client: FlaskClient, price):
    answer = client.post("/products", json={**CHAIR, "price": price})
    assert fields_of(answer) == {"price": "must be an object with amount and currency"}


def test_every_invalid_field_is_named_even_with_a_structural_error(client: FlaskClient):
    answer = client.post("/products", json={"sku": "", "name": "", "price": {"amount": -5}})
    assert set(fields_of(answer)) == {"sku", "name", "price.amount", "price.currency"}


def test_every_field_rule_is_named_not_only_the_first(client: FlaskClient):
    body = {"sku": "", "name": "", "price": {"amount": -5, "currency": "eur"}}
    assert set(fields_of(client.post("/products", json=body))) == {
        "sku", "name", "price.amount", "price.currency"
    }  # fmt: skip
