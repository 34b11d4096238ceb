"""Commands: what users and other systems ask the shop to do, in imperative mood.

Field rules are checked on construction, so invalid input fails early, whatever door it came
through, with an ``InvalidValue`` (a ``ValueError``) naming the field: quantities, the text
rules of ``shop.domain.text`` (which characters each field allows), an active currency. Rules
that need a value object (email, country, tier) are checked by the domain.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from seedwork.core.messages import Command
from seedwork.core.schema import METADATA_KEY, describe
from shop.domain import text
from shop.domain.errors import InvalidValue
from shop.domain.kernel import BatchReference, CustomerId, OrderId, Sku, Tier
from shop.domain.money import Money, check_currency


def _text(rule: text.TextRule) -> Any:
    """A validator: text that follows ``rule`` (``shop.domain.text``)."""

    def check(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
        rule.check(attribute.name, value)

    return describe(check, rule.json_schema())


def _tier(value: object) -> Tier:
    """The tier named ``value`` (``Tier.parse``): in-process callers may give its name."""
    return Tier.parse(value)


def _count(minimum: int) -> Any:
    """A validator: a whole number (not a bool) of at least ``minimum``."""

    def check(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidValue(
                attribute.name, f"The {attribute.name} is a whole number >= {minimum}."
            )

    return describe(check, {"minimum": minimum})


def _money(_: Any, attribute: attrs.Attribute[Money], value: Money) -> None:
    if not isinstance(value, Money):
        raise InvalidValue(attribute.name, f"The {attribute.name} is an amount of money.")
    check_currency(value.currency)


_ID = _text(text.ID)
_SKU = _text(text.SKU)
_REFERENCE = _text(text.REFERENCE)
_NAME = _text(text.NAME)
_ADDRESS_LINE = _text(text.ADDRESS_LINE)
_QUANTITY = _count(1)


@attrs.frozen(kw_only=True)
class AddProduct(Command):
    """Add a product to the catalog."""

    sku: Sku = attrs.field(validator=_SKU)
    name: str = attrs.field(validator=_NAME)
    price: Money = attrs.field(validator=_money)


@attrs.frozen(kw_only=True)
class ChangeProductPrice(Command):
    """Set a product's catalog price."""

    sku: Sku = attrs.field(validator=_SKU)
    price: Money = attrs.field(validator=_money)


@attrs.frozen(kw_only=True)
class DiscontinueProduct(Command):
    """Stop selling a product."""

    sku: Sku = attrs.field(validator=_SKU)


@attrs.frozen(kw_only=True)
class AddBatch(Command):
    """Add a batch of a sku: in the warehouse (eta None) or arriving on ``eta``."""

    reference: BatchReference = attrs.field(validator=_REFERENCE)
    sku: Sku = attrs.field(validator=_SKU)
    quantity: int = attrs.field(validator=_QUANTITY)
    eta: date | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(date))
    )


@attrs.frozen(kw_only=True)
class ChangeBatchQuantity(Command):
    """Set a batch's purchased quantity (zero or more)."""

    reference: BatchReference = attrs.field(validator=_REFERENCE)
    quantity: int = attrs.field(validator=_count(0))


@attrs.frozen(kw_only=True)
class RegisterCustomer(Command):
    """Register a customer."""

    customer_id: CustomerId = attrs.field(validator=_ID)
    name: str = attrs.field(validator=_NAME)
    email: str = attrs.field(validator=_text(text.EMAIL))
    tier: Tier = attrs.field(
        default=Tier.BRONZE, converter=_tier, metadata={METADATA_KEY: text.TIER.json_schema()}
    )


@attrs.frozen(kw_only=True)
class CreateOrder(Command):
    """Start a draft order for a customer."""

    order_id: OrderId = attrs.field(validator=_ID)
    customer_id: CustomerId = attrs.field(validator=_ID)


@attrs.frozen(kw_only=True)
class AddOrderLine(Command):
    """Add units of a sku to a draft order, at the catalog price."""

    order_id: OrderId = attrs.field(validator=_ID)
    sku: Sku = attrs.field(validator=_SKU)
    quantity: int = attrs.field(validator=_QUANTITY)


@attrs.frozen(kw_only=True)
class RemoveOrderLine(Command):
    """Remove a sku's line from a draft order."""

    order_id: OrderId = attrs.field(validator=_ID)
    sku: Sku = attrs.field(validator=_SKU)


@attrs.frozen(kw_only=True)
class SetShippingAddress(Command):
    """Set where a draft order ships to."""

    order_id: OrderId = attrs.field(validator=_ID)
    street: str = attrs.field(validator=_ADDRESS_LINE)
    city: str = attrs.field(validator=_ADDRESS_LINE)
    postcode: str = attrs.field(validator=_ADDRESS_LINE)
    country: str = attrs.field(validator=_text(text.COUNTRY))


@attrs.frozen(kw_only=True)
class PlaceOrder(Command):
    """Place a draft order."""

    order_id: OrderId = attrs.field(validator=_ID)


@attrs.frozen(kw_only=True)
class CancelOrder(Command):
    """Cancel an order that has not shipped."""

    order_id: OrderId = attrs.field(validator=_ID)
    reason: str = attrs.field(validator=_text(text.REASON))


@attrs.frozen(kw_only=True)
class ShipOrder(Command):
    """Ship a confirmed order."""

    order_id: OrderId = attrs.field(validator=_ID)
    tracking_number: str = attrs.field(validator=_text(text.TRACKING_NUMBER))


@attrs.frozen(kw_only=True)
class Allocate(Command):
    """Give a placed order's line stock from a batch (internal)."""

    order_id: OrderId = attrs.field(validator=_ID)
    sku: Sku = attrs.field(validator=_SKU)
    quantity: int = attrs.field(validator=_QUANTITY)
