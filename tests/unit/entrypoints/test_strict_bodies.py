"""Strict bodies (CONTRACT §2): an unknown field is 422 naming it, a duplicated key 400."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from seedwork.core.errors import InvalidPayload, MessageError
from seedwork.core.serialization import ENVELOPE_FIELDS, Serializer
from seedwork.redis.channels import Channels
from seedwork.redis.reader import CommandReader
from seedwork.redis.wire import check_text
from shop.bootstrap import message_converter, message_registry
from shop.domain.integration import ACCEPTED_COMMANDS, wire_names
from tests.unit.entrypoints.test_request_translation import CHAIR, fields_of, problem_of

PRICE = {"amount": 999, "currency": "EUR"}

# Every endpoint with a body, and a valid body for it.
BODIES = [
    ("POST", "/products", CHAIR),
    ("PUT", "/products/RED-CHAIR/price", {"price": PRICE}),
    ("POST", "/batches", {"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5, "eta": None}),
    ("PUT", "/batches/b-1/quantity", {"quantity": 3}),
    ("POST", "/customers", {"name": "Ann", "email": "ann@example.com"}),
    ("POST", "/orders", {"customer_id": "c-1"}),
    ("POST", "/orders/o-1/lines", {"sku": "RED-CHAIR", "quantity": 1}),
    (
        "PUT",
        "/orders/o-1/shipping-address",
        {"street": "1 Rue", "city": "Paris", "postcode": "75001", "country": "FR"},
    ),
    ("POST", "/orders/o-1/cancel", {"reason": "changed my mind"}),
    ("POST", "/orders/o-1/ship", {"tracking_number": "TRACK-1"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BODIES, ids=[p for _, p, _ in BODIES])
def test_an_unknown_field_is_named(client: FlaskClient, method: str, path: str, body: dict):
    answer = client.open(path, method=method, json={**body, "colour": "red"})
    assert fields_of(answer) == {"colour": "is not a known field"}


NO_BODIES = [
    ("POST", "/products/RED-CHAIR/discontinue"),
    ("POST", "/orders/o-1/place"),
    ("DELETE", "/orders/o-1/lines/RED-CHAIR"),
]


@pytest.mark.parametrize(("method", "path"), NO_BODIES, ids=[p for _, p in NO_BODIES])
def test_an_endpoint_that_takes_no_body_refuses_one_as_strictly(
    client: FlaskClient, method: str, path: str
):
    assert fields_of(client.open(path, method=method, json={"colour": "red"})) == {
        "colour": "is not a known field"
    }
    text = client.open(path, method=method, data="not json", content_type="text/plain")
    assert text.status_code == 415
    assert text.mimetype == "application/problem+json"
    assert (
        client.open(path, method=method, data=b"{", content_type="application/json").status_code
        == 400
    )


def test_an_unknown_nested_field_is_named_by_its_path(client: FlaskClient):
    body = {**CHAIR, "price": {**PRICE, "colour": "red"}}
    assert fields_of(client.post("/products", json=body)) == {
        "price.colour": "is not a known field"
    }


def test_unknown_fields_are_named_with_the_other_bad_fields(client: FlaskClient):
    body = {"sku": "", "name": "Chair", "price": {"amount": -1, "currency": "EUR", "x": 1}, "y": 2}
    assert set(fields_of(client.post("/products", json=body))) == {
        "sku", "price.amount", "price.x", "y"
    }  # fmt: skip


def test_nothing_is_changed_by_a_body_with_an_unknown_field(client: FlaskClient):
    client.post("/products", json={**CHAIR, "colour": "red"})
    problem_of(client.get("/products/RED-CHAIR"), 404)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/products/RED-CHAIR/price", {"sku": "BLUE-CHAIR", "price": PRICE}),
        ("/customers", {"name": "Ann", "email": "ann@example.com", "customer_id": "c-9"}),
    ],
)
def test_a_field_set_by_the_path_or_the_server_is_not_a_body_field(
    client: FlaskClient, path: str, body: dict
):
    client.post("/products", json=CHAIR)
    method = "PUT" if path.endswith("/price") else "POST"
    found = fields_of(client.open(path, method=method, json=body))
    assert set(found) == ({"sku"} if "sku" in body else {"customer_id"})


@pytest.mark.parametrize(
    "text",
    [
        '{"reference": "b-1", "sku": "RED-CHAIR", "quantity": -1, "quantity": 5}',
        '{"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5, "eta": null, "eta": null}',
        '{"sku": "RED-CHAIR", "name": "C", "price": {"amount": 1, "amount": 2, "currency": "EUR"}}',
    ],
)
def test_a_duplicated_key_is_a_bad_request(client: FlaskClient, text: str):
    client.post("/products", json=CHAIR)
    path = "/products" if '"name"' in text else "/batches"
    body = problem_of(client.post(path, data=text, content_type="application/json"), 400)
    assert "duplicated key" in body["detail"]
    if path == "/batches":
        problem_of(client.put("/batches/b-1/quantity", json={"quantity": 1}), 404)


@pytest.mark.parametrize("currency", ["ZZZ", "ABC", "XTS", "XXX"])
def test_a_currency_must_be_an_active_iso_4217_code(client: FlaskClient, currency: str):
    body = {**CHAIR, "price": {"amount": 100, "currency": currency}}
    assert "active ISO 4217" in fields_of(client.post("/products", json=body))["price.currency"]
    client.post("/products", json=CHAIR)
    answer = client.put("/products/RED-CHAIR/price", json={"price": body["price"]})
    assert set(fields_of(answer)) == {"price.currency"}


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/products", "name", "\u200b"),
        ("/products", "name", "\u202eriahc der"),
        ("/products", "name", "Red\u2066chair"),
        ("/batches", "reference", "b\u20281"),
        ("/batches", "reference", "b?1"),
        ("/batches", "reference", "b#1"),
        ("/customers", "name", "\u200b\u200b"),
        ("/orders/o-1/shipping-address", "street", "1 Rue\u2029X"),
        ("/orders/o-1/shipping-address", "city", "\u202dParis"),
        ("/orders/o-1/cancel", "reason", "\u200b"),
        ("/orders/o-1/ship", "tracking_number", "T\x00K"),
    ],
)
def test_text_says_which_characters_the_field_allows(
    client: FlaskClient, path: str, field: str, value: str
):
    method, _, body = next(entry for entry in BODIES if entry[1] == path)
    message = fields_of(client.open(path, method=method, json={**body, field: value}))[field]
    assert "characters" in message


def test_the_redis_door_is_as_strict_as_the_http_door():
    reader = CommandReader(
        Serializer(message_registry(), message_converter()),
        Channels("t"),
        wire_names(ACCEPTED_COMMANDS),
    )
    good = {"reference": "b-1", "sku": "RED-CHAIR", "quantity": 5}
    assert reader.read(json.dumps(good), "t.commands.add_batch").message.quantity == 5
    for payload, field in [
        ({**good, "colour": "red"}, "colour"),
        ({**good, "reference": "b?1"}, "reference"),
        ({**good, "quantity": 2**40}, "quantity"),
    ]:
        with pytest.raises(InvalidPayload) as caught:
            reader.read(json.dumps(payload), "t.commands.add_batch")
        assert [error.field for error in caught.value.errors] == [field]
    with pytest.raises(MessageError, match="duplicated key"):
        reader.read('{"reference": "b-1", "quantity": 1, "quantity": 5}', "t.commands.add_batch")


payload_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
payload_keys = st.sampled_from(["reference", "sku", "quantity", "eta"]) | st.text(max_size=8)


@given(payload=st.dictionaries(payload_keys, payload_values, max_size=6))
def test_a_redis_payload_is_a_command_or_a_named_refusal(payload: dict):
    reader = CommandReader(
        Serializer(message_registry(), message_converter()),
        Channels("t"),
        wire_names(ACCEPTED_COMMANDS),
    )
    payload = {key: value for key, value in payload.items() if key not in ENVELOPE_FIELDS}
    try:
        reader.read(json.dumps(payload), "t.commands.add_batch")
    except InvalidPayload as error:
        unknown = set(payload) - {"reference", "sku", "quantity", "eta"}
        # A name that cannot be stored anywhere (NUL, a lone surrogate) is refused as such,
        # before fields are matched: the refusal says so instead of repeating it.
        if _unstorable(payload):
            assert error.errors  # refused for its text, before fields are matched
        else:
            assert unknown <= {found.field for found in error.errors}
    else:
        assert set(payload) <= {"reference", "sku", "quantity", "eta"}


def _unstorable(payload: dict) -> bool:
    """Whether some text in ``payload`` (a key too) could not be stored (NUL, lone surrogate)."""
    try:
        check_text(payload)
    except InvalidPayload:
        return True
    return False
