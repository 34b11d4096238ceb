"""The shared kernel: a tier is a ``Tier`` inside, its value on the wire; ids are their text."""

from __future__ import annotations

import json

import pytest

from seedwork.core.errors import InvalidPayload
from seedwork.core.schema import SchemaBuilder
from seedwork.core.structuring import structure
from shop.bootstrap import message_converter
from shop.domain import commands, events
from shop.domain.errors import InvalidValue
from shop.domain.kernel import Sku, Tier
from shop.domain.ordering import Order


def test_a_tier_from_a_payload_is_a_tier_and_bronze_by_default() -> None:
    body = {"customer_id": "c-1", "name": "Ada", "email": "ada@example.com"}
    converter = message_converter()
    assert structure(converter, commands.RegisterCustomer, body).tier is Tier.BRONZE
    gold = structure(converter, commands.RegisterCustomer, {**body, "tier": "gold"})
    assert gold.tier is Tier.GOLD


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ("GOLD", "A tier is one of bronze, silver, gold, platinum; got 'GOLD'."),
        ("", "The tier has 1 to 20 characters"),
        (5, "must be a string"),
    ],
)
def test_an_unknown_tier_names_the_field(tier: object, message: str) -> None:
    body = {"customer_id": "c-1", "name": "Ada", "email": "ada@example.com", "tier": tier}
    with pytest.raises(InvalidPayload) as raised:
        structure(message_converter(), commands.RegisterCustomer, body)
    [error] = raised.value.errors
    assert error.field == "tier"
    assert error.message.startswith(message)


def test_on_the_wire_a_tier_is_its_value_and_comes_back_a_tier() -> None:
    event = events.CustomerRegistered(
        customer_id="c-1", name="Ada", email="ada@example.com", tier=Tier.SILVER
    )
    converter = message_converter()
    data = converter.unstructure(event)
    assert json.dumps(data) == (
        '{"customer_id": "c-1", "name": "Ada", "email": "ada@example.com", "tier": "silver"}'
    )
    assert type(data["tier"]) is str
    assert converter.structure(data, events.CustomerRegistered).tier is Tier.SILVER


def test_an_order_keeps_its_customers_tier_as_a_tier() -> None:
    assert Order.create("o-1", "c-1", "platinum").tier is Tier.PLATINUM
    with pytest.raises(InvalidValue) as raised:
        Order.create("o-1", "c-1", "diamond")
    assert raised.value.field == "tier"


def test_an_id_is_described_as_the_text_it_is() -> None:
    builder = SchemaBuilder()
    assert builder.schema(Sku) == {"type": "string"}
    schema = builder.components[builder.component(commands.DiscontinueProduct)]
    assert schema["properties"]["sku"]["type"] == "string"
    assert "pattern" in schema["properties"]["sku"]
