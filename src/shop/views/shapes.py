"""The shapes of the read models' answers (CONTRACT §2), as the API documents them.

``shop.views.queries`` answers plain dicts for speed; these classes say what those dicts hold,
field by field, so the OpenAPI document is generated from them (``seedwork.core.schema``) and tests
check every answer against it.
"""

from __future__ import annotations

from datetime import date

import attrs

from shop.domain.events import AddressView, BatchView, OrderLineView
from shop.domain.kernel import Tier
from shop.domain.money import Money
from shop.domain.ordering import OrderStatus


@attrs.frozen
class Product:
    """A product of the catalog."""

    sku: str
    name: str
    price: Money
    active: bool


@attrs.frozen
class Customer:
    """A registered customer."""

    customer_id: str
    name: str
    email: str
    tier: Tier


@attrs.frozen
class OrderSummary:
    """One of a customer's orders."""

    order_id: str
    status: OrderStatus
    total: Money


@attrs.frozen
class CustomerOrders:
    """A customer's orders, newest first."""

    orders: tuple[OrderSummary, ...]


@attrs.frozen
class Order:
    """An order: its lines (with their batch once allocated), address and totals."""

    order_id: str
    customer_id: str
    status: OrderStatus
    lines: tuple[OrderLineView, ...]
    shipping_address: AddressView | None
    subtotal: Money
    discount: Money
    shipping_cost: Money
    total: Money


@attrs.frozen
class Stock:
    """A sku's stock: the available units over all batches, and each batch."""

    sku: str
    available: int
    batches: tuple[BatchView, ...]


@attrs.frozen
class Batch:
    """One batch of a sku; eta null means in the warehouse now."""

    reference: str
    sku: str
    quantity: int
    allocated: int
    available: int
    eta: date | None
