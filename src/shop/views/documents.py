"""The read models' documents: their shapes (CONTRACT §2), and the documents built from events.

``shop.views.queries`` answers plain dicts for speed; the classes here say what those dicts hold,
field by field, so the OpenAPI document is generated from them (``seedwork.core.schema``) and tests
check every answer against it. The functions build the documents the projections store and the
API answers at once (an order, a batch) from the events that carry them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs

from shop.domain import events
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


def money(value: Money) -> dict[str, Any]:
    """Money as the API shows it."""
    return {"amount": value.amount, "currency": value.currency}


def order_document(event: events.OrderRevised) -> dict[str, Any]:
    """The order view of CONTRACT §2 from an order snapshot."""
    address = event.shipping_address
    return {
        "order_id": event.order_id,
        "customer_id": event.customer_id,
        "status": event.status,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "line_total": money(line.line_total),
                "batch_reference": line.batch_reference,
            }
            for line in event.lines
        ],
        "shipping_address": None
        if address is None
        else {
            "street": address.street,
            "city": address.city,
            "postcode": address.postcode,
            "country": address.country,
        },
        "subtotal": money(event.subtotal),
        "discount": money(event.discount),
        "shipping_cost": money(event.shipping_cost),
        "total": money(event.total),
    }


def batch_document(sku: str, batch: events.BatchView) -> dict[str, Any]:
    """One batch as the API shows it (``PUT /batches/<reference>/quantity``)."""
    return {
        "reference": batch.reference,
        "sku": sku,
        "eta": batch.eta.isoformat() if batch.eta is not None else None,
        "quantity": batch.quantity,
        "allocated": batch.allocated,
        "available": batch.available,
    }
