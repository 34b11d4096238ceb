"""Customers: registration, email addresses and tiers."""

from __future__ import annotations

import pytest

from shop.domain import events
from shop.domain.customers import Customer, Email
from shop.domain.errors import InvalidValue
from shop.domain.kernel import Tier


def test_registering_records_customer_registered() -> None:
    customer = Customer.register("c-1", "Ada", " Ada@Example.COM ", "gold")
    assert customer.email == Email("Ada@example.com")
    assert customer.tier is Tier.GOLD
    assert customer.collect_events() == [
        events.CustomerRegistered(
            customer_id="c-1", name="Ada", email="Ada@example.com", tier="gold"
        )
    ]


def test_a_new_customer_is_bronze() -> None:
    assert Customer.register("c-1", "Ada", "ada@example.com").tier is Tier.BRONZE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "a da@example.com",
        "ada@exa mple.com",
        "ada@-example.com",
        "ada@example.c",
        "ada@example.123",
        ".ada@example.com",
        "a..da@example.com",
        "ada@example..com",
        "a" * 65 + "@example.com",
        "ada@" + "e" * 250 + ".com",
    ],
)
def test_an_email_must_look_like_an_address(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Email.parse(text)
    assert raised.value.field == "email"


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+shop@Mail.Example.CO.UK\n", "Ada.Lovelace+shop@mail.example.co.uk"),
        ("o'brien@x-y.io", "o'brien@x-y.io"),
    ],
)
def test_an_email_is_trimmed_and_its_domain_lower_cased(text: str, normalized: str) -> None:
    assert Email.parse(text).value == normalized


def test_an_email_must_be_normalized_when_built_directly() -> None:
    with pytest.raises(InvalidValue):
        Email("ada@EXAMPLE.com")


def test_an_unknown_tier_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue) as raised:
        Customer.register("c-1", "Ada", "ada@example.com", "diamond")
    assert raised.value.field == "tier"


@pytest.mark.parametrize("name", ["", " ", "x" * 201])
def test_a_customer_name_has_one_to_two_hundred_characters(name: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Customer.register("c-1", name, "ada@example.com")
    assert raised.value.field == "name"
