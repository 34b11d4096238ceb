"""Events: facts the shop's aggregates record, in past tense.

Every field is a plain, hashable value (str, int, date, Money, attrs frozen views, tuples)
so that cattrs can serialize them for the outbox and Redis. ``OrderRevised`` and
``StockRevised`` are snapshots recorded last after every change; they feed the read models
(with ``BatchAdded``, which adds a batch to a stock whose other batches were not loaded).
"""

from __future__ import annotations

from datetime import date

import attrs

from seedwork.core.messages import Event
from shop.domain.kernel import BatchReference, CustomerId, OrderId, Sku, Tier
from shop.domain.money import Money

# --- catalog -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ProductAdded(Event):
    """A product joined the catalog."""

    sku: Sku
    name: str
    price: Money


@attrs.frozen(kw_only=True)
class ProductPriceChanged(Event):
    """A product's catalog price changed; existing order lines keep their price."""

    sku: Sku
    price: Money


@attrs.frozen(kw_only=True)
class ProductDiscontinued(Event):
    """A product can no longer be ordered."""

    sku: Sku


# --- customers ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CustomerRegistered(Event):
    """A customer registered."""

    customer_id: CustomerId
    name: str
    email: str
    tier: Tier


# --- inventory ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BatchAdded(Event):
    """A batch of a sku arrived in the warehouse (eta None) or was announced."""

    reference: BatchReference
    sku: Sku
    quantity: int
    eta: date | None


@attrs.frozen(kw_only=True)
class BatchQuantityChanged(Event):
    """A batch's purchased quantity changed."""

    reference: BatchReference
    sku: Sku
    quantity: int


@attrs.frozen(kw_only=True)
class LineAllocated(Event):
    """An order line was given stock from a batch."""

    order_id: OrderId
    sku: Sku
    quantity: int
    batch_reference: BatchReference


@attrs.frozen(kw_only=True)
class LineDeallocated(Event):
    """An order line gave its stock back to a batch."""

    order_id: OrderId
    sku: Sku
    quantity: int
    batch_reference: BatchReference


@attrs.frozen(kw_only=True)
class OutOfStock(Event):
    """No batch of the sku can take the whole order line now."""

    order_id: OrderId
    sku: Sku


@attrs.frozen(kw_only=True)
class StockOffered(Event):
    """Some batch of the sku can now take a line that waits for it (an internal event: its
    reaction allocates the waiting lines; a change that frees nothing they fit records none)."""

    sku: Sku


@attrs.frozen
class BatchView:
    """A batch as the read models show it."""

    reference: BatchReference
    eta: date | None
    quantity: int
    allocated: int
    available: int


@attrs.frozen(kw_only=True)
class StockRevised(Event):
    """Snapshot of every batch of a sku after a change."""

    sku: Sku
    batches: tuple[BatchView, ...]


# --- ordering ----------------------------------------------------------------------------


@attrs.frozen
class PlacedLine:
    """A line of a placed order, as other systems need it."""

    sku: Sku
    quantity: int
    unit_price: Money


@attrs.frozen
class AllocatedLine:
    """A line holding stock from a batch."""

    sku: Sku
    quantity: int
    batch_reference: BatchReference


@attrs.frozen(kw_only=True)
class OrderCreated(Event):
    """A customer started a draft order."""

    order_id: OrderId
    customer_id: CustomerId


@attrs.frozen(kw_only=True)
class OrderPlaced(Event):
    """A customer placed an order; its lines now wait for allocation."""

    order_id: OrderId
    customer_id: CustomerId
    lines: tuple[PlacedLine, ...]
    total: Money


@attrs.frozen(kw_only=True)
class OrderConfirmed(Event):
    """Every line of the order has stock."""

    order_id: OrderId


@attrs.frozen(kw_only=True)
class OrderBackordered(Event):
    """Some line of the order waits for stock."""

    order_id: OrderId


@attrs.frozen(kw_only=True)
class OrderCancelled(Event):
    """The order was cancelled; ``released`` lists the lines that held stock."""

    order_id: OrderId
    reason: str
    released: tuple[AllocatedLine, ...]


@attrs.frozen(kw_only=True)
class OrderShipped(Event):
    """The order left the warehouse."""

    order_id: OrderId
    tracking_number: str


@attrs.frozen
class OrderLineView:
    """An order line as the read models show it."""

    sku: Sku
    name: str
    quantity: int
    unit_price: Money
    line_total: Money
    batch_reference: BatchReference | None


@attrs.frozen
class AddressView:
    """A shipping address as the read models show it."""

    street: str
    city: str
    postcode: str
    country: str


@attrs.frozen(kw_only=True)
class OrderRevised(Event):
    """Snapshot of the whole order after a change."""

    order_id: OrderId
    customer_id: CustomerId
    status: str
    lines: tuple[OrderLineView, ...]
    shipping_address: AddressView | None
    subtotal: Money
    discount: Money
    shipping_cost: Money
    total: Money
    tracking_number: str | None = None
    cancel_reason: str | None = None
