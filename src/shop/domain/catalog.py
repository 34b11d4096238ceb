"""The catalog: products the shop sells, their current price, and whether they are still sold."""

from __future__ import annotations

import re
from typing import ClassVar

import attrs

from seedwork.model import AggregateRoot
from shop.domain import events
from shop.domain.errors import InvalidValue, ProductDiscontinued
from shop.domain.money import Money

SKU_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
NAME_MAX_LENGTH = 200


def check_sku(sku: object) -> str:
    """``sku`` when it is 2 to 32 capital letters, digits or dashes, not starting with a dash."""
    if not isinstance(sku, str) or not SKU_PATTERN.fullmatch(sku):
        raise InvalidValue(
            "sku",
            f"A sku is 2 to 32 capital letters, digits or dashes, not starting with a dash; "
            f"got {sku!r}.",
        )
    return sku


def check_name(name: object) -> str:
    """``name`` when it has 1 to 200 characters and is not blank."""
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX_LENGTH:
        raise InvalidValue("name", f"A name has 1 to {NAME_MAX_LENGTH} characters, not blank.")
    return name


@attrs.define(slots=False, eq=False)
class Product(AggregateRoot):
    """Something the shop sells, identified by its sku."""

    identity_field: ClassVar[str] = "sku"

    sku: str
    name: str
    price: Money
    active: bool = True
    version: int = 0

    @classmethod
    def add(cls, sku: str, name: str, price: Money) -> Product:
        """A new, active product in the catalog."""
        product = cls(sku=check_sku(sku), name=check_name(name), price=price)
        product.record(events.ProductAdded(sku=sku, name=name, price=price))
        return product

    def change_price(self, price: Money) -> None:
        """Set a new catalog price; a discontinued product cannot be repriced."""
        if not self.active:
            raise ProductDiscontinued(self.sku)
        if price == self.price:
            return
        self.price = price
        self.record(events.ProductPriceChanged(sku=self.sku, price=price))

    def discontinue(self) -> None:
        """Stop selling the product; discontinuing twice changes nothing."""
        if not self.active:
            return
        self.active = False
        self.record(events.ProductDiscontinued(sku=self.sku))
