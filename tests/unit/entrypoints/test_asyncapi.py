"""GET /asyncapi.json and ``shop asyncapi``: every channel and stream of CONTRACT §3, generated."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft7Validator

from seedwork.core.envelopes import OutboundEnvelope
from seedwork.core.messages import Envelope
from seedwork.core.schema import SchemaBuilder
from seedwork.core.serialization import Serializer
from seedwork.redis.channels import snake_case
from shop.bootstrap import message_converter, message_registry
from shop.domain import commands, events
from shop.domain.money import Money
from shop.entrypoints.cli import main as cli
from shop.entrypoints.documents.asyncapi import asyncapi_document

#: CONTRACT §3.
EVENTS = [
    "ProductAdded", "ProductPriceChanged", "ProductDiscontinued", "BatchAdded",
    "BatchQuantityChanged", "OrderPlaced", "OrderConfirmed", "OrderBackordered",
    "OrderCancelled", "OrderShipped", "LineAllocated", "LineDeallocated", "OutOfStock",
]  # fmt: skip
COMMANDS = ["AddBatch", "ChangeBatchQuantity", "ShipOrder", "CancelOrder"]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document("acme")


def test_every_channel_and_stream_of_the_contract_is_described(document: dict[str, Any]):
    addresses = {channel["address"]: channel for channel in document["channels"].values()}
    expected = {f"acme.events.{snake_case(name)}" for name in EVENTS}
    expected |= {f"acme.commands.{snake_case(name)}" for name in COMMANDS}
    expected |= {"acme.events", "acme.commands", "acme.dead_letters"}
    assert set(addresses) == expected
    assert set(addresses["acme.events"]["messages"]) == set(EVENTS)
    assert set(addresses["acme.commands"]["messages"]) == set(COMMANDS)
    actions = {op["channel"]["$ref"].rsplit("/", 1)[1]: op["action"]
               for op in document["operations"].values()}  # fmt: skip
    assert {key for key, action in actions.items() if action == "receive"} == {
        *(f"command{name}" for name in COMMANDS),
        "commands",
    }
    assert len(actions) == len(document["channels"])


def _message_schema(document: dict[str, Any], name: str) -> Draft7Validator:
    schema = {**document["components"]["messages"][name]["payload"]}
    schema["components"] = document["components"]
    return Draft7Validator(schema)


def test_what_the_shop_sends_matches_the_envelope_and_payload_schemas(document: dict[str, Any]):
    serializer = Serializer(message_registry(), message_converter())
    sent = [
        events.OrderPlaced(order_id="o-1", customer_id="c-1", total=Money(500, "EUR"),
                           lines=(events.PlacedLine("RED-1", 2, Money(250, "EUR")),)),
        events.BatchAdded(reference="b-1", sku="RED-1", quantity=3, eta=None),
        events.OrderCancelled(order_id="o-1", reason="late",
                              released=(events.AllocatedLine("RED-1", 2, "b-1"),)),
    ]  # fmt: skip
    for event in sent:
        envelope = serializer.envelope_dict(Envelope(message=event))
        _message_schema(document, event.message_name()).validate(envelope)
        wrong = {**envelope, "payload": {**envelope["payload"], "sku": 7}}
        assert not _message_schema(document, event.message_name()).is_valid(wrong)


def test_commands_in_may_be_envelopes_or_bare_payloads(document: dict[str, Any]):
    validator = _message_schema(document, "ShipOrder")
    payload = {"order_id": "o-1", "tracking_number": "T-1"}
    assert validator.is_valid(payload)
    assert validator.is_valid({"payload": payload})
    assert validator.is_valid({"type": "ShipOrder", "message_id": "m-1", "payload": payload})
    assert not validator.is_valid({"type": "CancelOrder", "payload": payload})
    assert not validator.is_valid({**payload, "colour": "red"})


def test_the_envelope_schema_names_every_field_the_serializer_writes():
    builder = SchemaBuilder()
    schema = builder.object_schema(OutboundEnvelope)
    written = Serializer(message_registry()).envelope_dict(
        Envelope(message=commands.PlaceOrder(order_id="o-1"))
    )
    assert set(written) <= set(schema["properties"])
    assert set(schema["required"]) <= set(written)


def test_get_asyncapi_json_and_shop_asyncapi_give_the_same_document(
    client: FlaskClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SHOP_CHANNEL_PREFIX", "shop")
    served = client.get("/asyncapi.json")
    assert served.status_code == 200
    assert served.get_json() == asyncapi_document("shop")
    assert cli.main(["asyncapi"]) == 0
    assert json.loads(capsys.readouterr().out) == served.get_json()
