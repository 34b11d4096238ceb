"""The catalog: products the shop sells, their current price, and whether they are still sold."""

from __future__ import annotations

from typing import ClassVar

import attrs

from seedwork.core.model import AggregateRoot
from shop.domain import events, text
from shop.domain.errors import ProductDiscontinued
from shop.domain.kernel import Sku
from shop.domain.money import Money, check_currency
from shop.domain.visa import SYSTEM, Action, Visa


@attrs.define(slots=False, eq=False)
class Product(AggregateRoot):
    """Something the shop sells, identified by its sku."""

    identity_field: ClassVar[str] = "sku"

    sku: Sku
    name: str
    price: Money
    active: bool = True
    version: int = 0

    @classmethod
    def add(cls, sku: Sku, name: str, price: Money, *, visa: Visa = SYSTEM) -> Product:
        """A new, active product in the catalog; staff's to add."""
        visa.require(Action.MANAGE_CATALOG)
        check_currency(price.currency)
        product = cls(
            sku=Sku(text.SKU.check("sku", sku)), name=text.NAME.check("name", name), price=price
        )
        product.record(events.ProductAdded(sku=sku, name=name, price=price))
        return product

    def change_price(self, price: Money, *, visa: Visa = SYSTEM) -> None:
        """Set a new catalog price; a discontinued product cannot be repriced."""
        visa.require(Action.MANAGE_CATALOG)
        if not self.active:
            raise ProductDiscontinued(self.sku)
        check_currency(price.currency)
        if price == self.price:
            return
        self.price = price
        self.record(events.ProductPriceChanged(sku=self.sku, price=price))

    def discontinue(self, *, visa: Visa = SYSTEM) -> None:
        """Stop selling the product; discontinuing twice changes nothing."""
        visa.require(Action.MANAGE_CATALOG)
        if not self.active:
            return
        self.active = False
        self.record(events.ProductDiscontinued(sku=self.sku))
