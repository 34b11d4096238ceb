"""Projections: events applied to the read-model tables, inline (in the transaction that
records them, see ``project``) or replayed from the event log (``shop views rebuild``).

Every projection is an upsert guarded by the event's position in the event log, so applying
an event twice, or after a newer one of the same aggregate, leaves the row as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, update

from seedwork.core.messages import Envelope, Event
from shop.domain import events
from shop.views.documents import order_document
from shop.views.projections.upserts import Shape, ViewWrites
from shop.views.tables import (
    batch_view,
    customer_order_view,
    customer_view,
    order_view,
    product_view,
    stock_view,
)

Projection = Callable[[ViewWrites, Any, int], None]
"""Applies one event, at its log position, through the writes of the transaction."""


def product_added(writes: ViewWrites, event: events.ProductAdded, position: int) -> None:
    """A new product row."""
    row = {
        "sku": event.sku,
        "name": event.name,
        "price_amount": event.price.amount,
        "price_currency": event.price.currency,
        "active": True,
        "position": position,
    }
    writes.upsert(Shape(product_view, tuple(row)), [row])


def product_price_changed(
    writes: ViewWrites, event: events.ProductPriceChanged, position: int
) -> None:
    """The product's new price, unless a newer one is already shown."""
    writes.execute(
        update(product_view)
        .where(product_view.c.sku == event.sku, product_view.c.position <= position)
        .values(
            price_amount=event.price.amount, price_currency=event.price.currency, position=position
        )
    )


def product_discontinued(
    writes: ViewWrites, event: events.ProductDiscontinued, position: int
) -> None:
    """Discontinuing is final, so it applies whatever the order."""
    writes.execute(update(product_view).where(product_view.c.sku == event.sku).values(active=False))


def customer_registered(
    writes: ViewWrites, event: events.CustomerRegistered, position: int
) -> None:
    """A new customer row."""
    row = {
        "customer_id": event.customer_id,
        "name": event.name,
        "email": event.email,
        "tier": event.tier,
        "position": position,
    }
    writes.upsert(Shape(customer_view, tuple(row)), [row])


def order_revised(writes: ViewWrites, event: events.OrderRevised, position: int) -> None:
    """The order's view and its entry in the customer's order list."""
    document = json.dumps(order_document(event), separators=(",", ":"))
    row = {
        "order_id": event.order_id,
        "customer_id": event.customer_id,
        "status": event.status,
        "document": document,
        "position": position,
    }
    entry = {
        "customer_id": event.customer_id,
        "order_id": event.order_id,
        "status": event.status,
        "total_amount": event.total.amount,
        "total_currency": event.total.currency,
        "created_position": position,
        "position": position,
    }
    writes.upsert(
        Shape(order_view, tuple(row)),
        [row],
        then=(Shape(customer_order_view, tuple(entry), keep=("created_position",)), [entry]),
    )


def stock_revised(writes: ViewWrites, event: events.StockRevised, position: int) -> None:
    """Every batch of the sku, as the snapshot shows it (batches are never taken away)."""
    available = sum(batch.available for batch in event.batches)
    stock = {"sku": event.sku, "available": available, "position": position}
    rows = [_batch_row(event.sku, rank, batch) for rank, batch in enumerate(event.batches)]
    if not rows:
        writes.upsert(Shape(stock_view, tuple(stock)), [stock])
        return
    batches = Shape(batch_view, tuple(rows[0]), count=len(rows))
    writes.upsert(Shape(stock_view, tuple(stock)), [stock], then=(batches, rows))


def batch_added(writes: ViewWrites, event: events.BatchAdded, position: int) -> None:
    """A new batch, and its units added to the sku's (a change that loads no other batch)."""
    stock = {"sku": event.sku, "available": event.quantity, "position": position}
    batch = events.BatchView(
        reference=event.reference,
        eta=event.eta,
        quantity=event.quantity,
        allocated=0,
        available=event.quantity,
    )
    row = _batch_row(event.sku, _UNRANKED, batch)
    writes.upsert(
        Shape(stock_view, tuple(stock), add=("available",)),
        [stock],
        then=(Shape(batch_view, tuple(row)), [row]),
    )


# Reads order batches by their allocation preference; ``rank`` is kept for old rows.
_UNRANKED = 0


def _batch_row(sku: str, rank: int, batch: events.BatchView) -> dict[str, Any]:
    return {
        "reference": batch.reference,
        "sku": sku,
        "rank": rank,
        "eta": batch.eta,
        "quantity": batch.quantity,
        "allocated": batch.allocated,
        "available": batch.available,
    }


PROJECTIONS: Mapping[type[Event], Projection] = {
    events.ProductAdded: product_added,
    events.ProductPriceChanged: product_price_changed,
    events.ProductDiscontinued: product_discontinued,
    events.CustomerRegistered: customer_registered,
    events.OrderRevised: order_revised,
    events.StockRevised: stock_revised,
    events.BatchAdded: batch_added,
}


def project(connection: Connection, envelopes: Sequence[Envelope]) -> None:
    """Apply a commit's events to the read models, through the connection of the transaction
    that records them (on PostgreSQL, their upserts together: see ``ViewWrites``)."""
    writes = ViewWrites(connection)
    for envelope in envelopes:
        event = envelope.message
        projection = PROJECTIONS.get(type(event)) if isinstance(event, Event) else None
        if projection is not None:
            position = envelope.log_position
            assert position is not None, "events are projected once they are in the log"
            projection(writes, event, position)
    writes.flush()
