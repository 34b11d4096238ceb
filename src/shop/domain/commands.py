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
from seedwork.core.schema import METADATA_KEY
from shop.domain import counts, text
from shop.domain.errors import InvalidValue
from shop.domain.kernel import BatchReference, CustomerId, OrderId, Sku, Tier
from shop.domain.money import Money, check_currency


def _tier(value: object) -> Tier:
    """The tier named ``value`` (``Tier.parse``): in-process callers may give its name."""
    return Tier.parse(value)


def _money(_: Any, attribute: attrs.Attribute[Money], value: Money) -> None:
    if not isinstance(value, Money):
        raise InvalidValue(attribute.name, f"The {attribute.name} is an amount of money.")
    check_currency(value.currency)


@attrs.frozen(kw_only=True)
class AddProduct(Command):
    """Add a product to the catalog."""

    sku: Sku = attrs.field(validator=text.SKU)
    name: str = attrs.field(validator=text.NAME)
    price: Money = attrs.field(validator=_money)


@attrs.frozen(kw_only=True)
class ChangeProductPrice(Command):
    """Set a product's catalog price."""

    sku: Sku = attrs.field(validator=text.SKU)
    price: Money = attrs.field(validator=_money)


@attrs.frozen(kw_only=True)
class DiscontinueProduct(Command):
    """Stop selling a product."""

    sku: Sku = attrs.field(validator=text.SKU)


@attrs.frozen(kw_only=True)
class AddBatch(Command):
    """Add a batch of a sku: in the warehouse (eta None) or arriving on ``eta``."""

    reference: BatchReference = attrs.field(validator=text.REFERENCE)
    sku: Sku = attrs.field(validator=text.SKU)
    quantity: int = attrs.field(validator=counts.QUANTITY)
    eta: date | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(date))
    )


@attrs.frozen(kw_only=True)
class ChangeBatchQuantity(Command):
    """Set a batch's purchased quantity (zero or more)."""

    reference: BatchReference = attrs.field(validator=text.REFERENCE)
    quantity: int = attrs.field(validator=counts.STOCK_QUANTITY)


@attrs.frozen(kw_only=True)
class RegisterCustomer(Command):
    """Register a customer."""

    customer_id: CustomerId = attrs.field(validator=text.ID)
    name: str = attrs.field(validator=text.NAME)
    email: str = attrs.field(validator=text.EMAIL)
    tier: Tier = attrs.field(
        default=Tier.BRONZE, converter=_tier, metadata={METADATA_KEY: text.TIER.json_schema()}
    )


@attrs.frozen(kw_only=True)
class CreateOrder(Command):
    """Start a draft order for a customer."""

    order_id: OrderId = attrs.field(validator=text.ID)
    customer_id: CustomerId = attrs.field(validator=text.ID)


@attrs.frozen(kw_only=True)
class AddOrderLine(Command):
    """Add units of a sku to a draft order, at the catalog price."""

    order_id: OrderId = attrs.field(validator=text.ID)
    sku: Sku = attrs.field(validator=text.SKU)
    quantity: int = attrs.field(validator=counts.QUANTITY)


@attrs.frozen(kw_only=True)
class RemoveOrderLine(Command):
    """Remove a sku's line from a draft order."""

    order_id: OrderId = attrs.field(validator=text.ID)
    sku: Sku = attrs.field(validator=text.SKU)


@attrs.frozen(kw_only=True)
class SetShippingAddress(Command):
    """Set where a draft order ships to."""

    order_id: OrderId = attrs.field(validator=text.ID)
    street: str = attrs.field(validator=text.ADDRESS_LINE)
    city: str = attrs.field(validator=text.ADDRESS_LINE)
    postcode: str = attrs.field(validator=text.ADDRESS_LINE)
    country: str = attrs.field(validator=text.COUNTRY)


@attrs.frozen(kw_only=True)
class PlaceOrder(Command):
    """Place a draft order."""

    order_id: OrderId = attrs.field(validator=text.ID)


@attrs.frozen(kw_only=True)
class CancelOrder(Command):
    """Cancel an order that has not shipped."""

    order_id: OrderId = attrs.field(validator=text.ID)
    reason: str = attrs.field(validator=text.REASON)


@attrs.frozen(kw_only=True)
class ShipOrder(Command):
    """Ship a confirmed order."""

    order_id: OrderId = attrs.field(validator=text.ID)
    tracking_number: str = attrs.field(validator=text.TRACKING_NUMBER)


@attrs.frozen(kw_only=True)
class Allocate(Command):
    """Give a placed order's waiting line stock from a batch (internal): the whole line, so
    the command names it and no quantity."""

    order_id: OrderId = attrs.field(validator=text.ID)
    sku: Sku = attrs.field(validator=text.SKU)
