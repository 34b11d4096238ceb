"""The catalog: products, their price, and discontinuing them."""

from __future__ import annotations

import pytest

from shop.domain import events
from shop.domain.catalog import Product
from shop.domain.errors import InvalidValue, ProductDiscontinued
from shop.domain.money import Money

PRICE = Money.of(1_999, "EUR")


def test_adding_a_product_records_product_added() -> None:
    product = Product.add("RED-CHAIR", "Red chair", PRICE)
    assert product.active
    assert product.collect_events() == [
        events.ProductAdded(sku="RED-CHAIR", name="Red chair", price=PRICE)
    ]


@pytest.mark.parametrize("sku", ["", "A", "-CHAIR", "red-chair", "RED CHAIR", "A" * 33, "ÄB"])
def test_a_sku_is_capitals_digits_and_dashes(sku: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Product.add(sku, "Chair", PRICE)
    assert raised.value.field == "sku"


@pytest.mark.parametrize("sku", ["A1", "0-", "RED-CHAIR-2", "A" * 32])
def test_valid_skus_are_accepted(sku: str) -> None:
    assert Product.add(sku, "Chair", PRICE).sku == sku


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_name_has_one_to_two_hundred_characters(name: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        Product.add("CHAIR", name, PRICE)
    assert raised.value.field == "name"


def test_changing_the_price_records_the_new_price() -> None:
    product = Product.add("CHAIR", "Chair", PRICE)
    product.collect_events()
    product.change_price(Money.of(2_500, "EUR"))
    assert product.price == Money.of(2_500, "EUR")
    assert product.collect_events() == [
        events.ProductPriceChanged(sku="CHAIR", price=Money.of(2_500, "EUR"))
    ]


def test_setting_the_same_price_records_nothing() -> None:
    product = Product.add("CHAIR", "Chair", PRICE)
    product.collect_events()
    product.change_price(PRICE)
    assert product.collect_events() == []


def test_a_discontinued_product_cannot_be_repriced() -> None:
    product = Product.add("CHAIR", "Chair", PRICE)
    product.discontinue()
    with pytest.raises(ProductDiscontinued):
        product.change_price(Money.of(1, "EUR"))


def test_discontinuing_twice_records_one_event() -> None:
    product = Product.add("CHAIR", "Chair", PRICE)
    product.collect_events()
    product.discontinue()
    product.discontinue()
    assert not product.active
    assert product.collect_events() == [events.ProductDiscontinued(sku="CHAIR")]


def test_products_are_equal_by_sku() -> None:
    assert Product.add("CHAIR", "Chair", PRICE) == Product.add("CHAIR", "Other", PRICE)
    assert Product.add("CHAIR", "Chair", PRICE) != Product.add("TABLE", "Chair", PRICE)
