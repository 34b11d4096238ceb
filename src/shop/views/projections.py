"""Projections: events applied to the read-model tables, live (bus handlers) or replayed (rebuild).

Every projection is an upsert guarded by the event's position in the event log, so applying
an event twice, or after a newer one of the same aggregate, leaves the row as it was.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy import (
    Table,
    TextClause,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from seedwork.messages import Event
from seedwork.uow import Handling
from shop.domain import events
from shop.domain.money import Money
from shop.views.tables import (
    batch_view,
    customer_order_view,
    customer_view,
    order_view,
    product_view,
    stock_view,
)

Projection = Callable[[Session, Any, int], None]


def money(value: Money) -> dict[str, Any]:
    """Money as the API shows it."""
    return {"amount": value.amount, "currency": value.currency}


def _upsert(
    session: Session, table: Table, row: dict[str, Any], keep: tuple[str, ...] = ()
) -> bool:
    """Insert ``row`` or move the existing one forward; False when the row is already newer."""
    statement = _upsert_statement(session.get_bind().dialect.name, table, tuple(row), keep)
    # RETURNING, not rowcount: drivers report -1 for INSERT ... ON CONFLICT through the ORM.
    return session.execute(statement, row).first() is not None


@functools.cache
def _upsert_statement(
    dialect: str, table: Table, columns: tuple[str, ...], keep: tuple[str, ...]
) -> TextClause:
    """The guarded upsert as text, compiled once: SQLAlchemy does not cache ON CONFLICT."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values({name: bindparam(name) for name in columns})
    keys = [column.name for column in table.primary_key.columns]
    changes = {name: statement.excluded[name] for name in columns if name not in (*keys, *keep)}
    upsert = statement.on_conflict_do_update(
        index_elements=keys,
        set_=changes,
        where=table.c.position <= statement.excluded.position,
    ).returning(table.c.position)
    sql = str(upsert.compile(dialect=module.dialect(paramstyle="named")))
    return text(sql).bindparams(*(bindparam(name, type_=table.c[name].type) for name in columns))


def product_added(session: Session, event: events.ProductAdded, position: int) -> None:
    """A new product row."""
    row = {
        "sku": event.sku,
        "name": event.name,
        "price_amount": event.price.amount,
        "price_currency": event.price.currency,
        "active": True,
        "position": position,
    }
    _upsert(session, product_view, row)


def product_price_changed(
    session: Session, event: events.ProductPriceChanged, position: int
) -> None:
    """The product's new price, unless a newer one is already shown."""
    session.execute(
        update(product_view)
        .where(product_view.c.sku == event.sku, product_view.c.position <= position)
        .values(
            price_amount=event.price.amount, price_currency=event.price.currency, position=position
        )
    )


def product_discontinued(
    session: Session, event: events.ProductDiscontinued, position: int
) -> None:
    """Discontinuing is final, so it applies whatever the order."""
    session.execute(
        update(product_view).where(product_view.c.sku == event.sku).values(active=False)
    )


def customer_registered(session: Session, event: events.CustomerRegistered, position: int) -> None:
    """A new customer row."""
    row = {
        "customer_id": event.customer_id,
        "name": event.name,
        "email": event.email,
        "tier": event.tier,
        "position": position,
    }
    _upsert(session, customer_view, row)


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


def order_revised(session: Session, event: events.OrderRevised, position: int) -> None:
    """The order's view and its entry in the customer's order list."""
    document = json.dumps(order_document(event), separators=(",", ":"))
    row = {
        "order_id": event.order_id,
        "customer_id": event.customer_id,
        "status": event.status,
        "document": document,
        "position": position,
    }
    if not _upsert(session, order_view, row):
        return
    entry = {
        "customer_id": event.customer_id,
        "order_id": event.order_id,
        "status": event.status,
        "total_amount": event.total.amount,
        "total_currency": event.total.currency,
        "created_position": position,
        "position": position,
    }
    _upsert(session, customer_order_view, entry, keep=("created_position",))


def stock_revised(session: Session, event: events.StockRevised, position: int) -> None:
    """Every batch of the sku, replaced by the snapshot."""
    available = sum(batch.available for batch in event.batches)
    if not _upsert(
        session, stock_view, {"sku": event.sku, "available": available, "position": position}
    ):
        return
    session.execute(delete(batch_view).where(batch_view.c.sku == event.sku))
    if event.batches:
        session.execute(
            insert(batch_view),
            [
                {
                    "reference": batch.reference,
                    "sku": event.sku,
                    "rank": rank,
                    "eta": batch.eta,
                    "quantity": batch.quantity,
                    "allocated": batch.allocated,
                    "available": batch.available,
                }
                for rank, batch in enumerate(event.batches)
            ],
        )


PROJECTIONS: Mapping[type[Event], Projection] = {
    events.ProductAdded: product_added,
    events.ProductPriceChanged: product_price_changed,
    events.ProductDiscontinued: product_discontinued,
    events.CustomerRegistered: customer_registered,
    events.OrderRevised: order_revised,
    events.StockRevised: stock_revised,
}


class ProjectionUnitOfWork(Protocol):
    """What a projection needs from the unit of work: its session and the message handled."""

    handling: Handling | None
    session: Session | None

    def __enter__(self) -> Any:
        """Begin (and skip an event this handler already applied)."""

    def __exit__(self, *exc: object) -> None:
        """End the transaction."""

    def commit(self) -> None:
        """Keep the change and note the event as applied."""


def update_views(event: Event, uow: ProjectionUnitOfWork, outbox: Table) -> None:
    """Apply a committed event to the read models, at its position in the event log."""
    with uow:
        session = uow.session
        assert session is not None, "a projection needs a SQL unit of work"
        PROJECTIONS[type(event)](session, event, _position(session, uow.handling, outbox))
        uow.commit()


def _position(session: Session, handling: Handling | None, outbox: Table) -> int:
    if handling is not None and handling.envelope.log_position is not None:
        return handling.envelope.log_position
    if handling is not None:
        found = session.execute(
            select(outbox.c.id).where(outbox.c.message_id == handling.envelope.message_id)
        ).scalar()
        if found is not None:
            return int(found)
    # Not in the log (handled directly): it is at least as new as the newest logged event.
    return int(session.execute(select(func.coalesce(func.max(outbox.c.id), 0))).scalar_one())


EVENT_HANDLERS: Mapping[type[Event], list[Callable[..., Any]]] = {
    event_type: [update_views] for event_type in PROJECTIONS
}
