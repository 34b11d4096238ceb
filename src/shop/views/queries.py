"""Reads: plain queries on the read-model tables, answered as the API's dicts."""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, RowMapping, select, text

from shop.views.tables import (
    batch_view,
    customer_order_view,
    customer_view,
    order_view,
    product_view,
    stock_view,
)

View = dict[str, Any]


class ReadModels(Protocol):
    """What the API reads; each answer is None when the thing does not exist."""

    def product(self, sku: str) -> View | None:
        """A product of the catalog."""

    def customer(self, customer_id: str) -> View | None:
        """A registered customer."""

    def customer_orders(self, customer_id: str) -> list[View] | None:
        """A customer's orders, newest first."""

    def order(self, order_id: str) -> View | None:
        """An order view."""

    def stock(self, sku: str) -> View | None:
        """A catalog sku's stock and batches."""

    def batch(self, reference: str) -> View | None:
        """One batch."""

    def ping(self) -> None:
        """Raise when the store cannot be reached."""


def _money(amount: int, currency: str) -> View:
    return {"amount": amount, "currency": currency}


def _batch(row: RowMapping) -> View:
    return {
        "reference": row["reference"],
        "eta": row["eta"].isoformat() if row["eta"] is not None else None,
        "quantity": row["quantity"],
        "allocated": row["allocated"],
        "available": row["available"],
    }


# Allocation preference: warehouse stock first, then the earliest eta (then the reference).
_PREFERENCE = (batch_view.c.eta.is_not(None), batch_view.c.eta, batch_view.c.reference)


class SqlReadModels:
    """The read models in the database, one short connection per read."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def product(self, sku: str) -> View | None:
        """A product of the catalog."""
        with self._engine.connect() as connection:
            return self._product(connection, sku)

    def _product(self, connection: Connection, sku: str) -> View | None:
        row = (
            connection.execute(select(product_view).where(product_view.c.sku == sku))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return {
            "sku": row["sku"],
            "name": row["name"],
            "price": _money(row["price_amount"], row["price_currency"]),
            "active": bool(row["active"]),
        }

    def customer(self, customer_id: str) -> View | None:
        """A registered customer."""
        with self._engine.connect() as connection:
            row = (
                connection.execute(
                    select(
                        customer_view.c.customer_id,
                        customer_view.c.name,
                        customer_view.c.email,
                        customer_view.c.tier,
                    ).where(customer_view.c.customer_id == customer_id)
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def customer_orders(self, customer_id: str) -> list[View] | None:
        """A customer's orders, newest first; None when the customer is not registered."""
        with self._engine.connect() as connection:
            known = connection.execute(
                select(customer_view.c.customer_id).where(
                    customer_view.c.customer_id == customer_id
                )
            ).first()
            if known is None:
                return None
            rows = connection.execute(
                select(customer_order_view)
                .where(customer_order_view.c.customer_id == customer_id)
                .order_by(customer_order_view.c.created_position.desc())
            ).mappings()
            return [
                {
                    "order_id": row["order_id"],
                    "status": row["status"],
                    "total": _money(row["total_amount"], row["total_currency"]),
                }
                for row in rows
            ]

    def order(self, order_id: str) -> View | None:
        """An order view."""
        with self._engine.connect() as connection:
            document = connection.execute(
                select(order_view.c.document).where(order_view.c.order_id == order_id)
            ).scalar()
        if document is None:
            return None
        view: View = json.loads(document)
        return view

    def stock(self, sku: str) -> View | None:
        """The stock of a sku; None when the sku is neither in the catalog nor stocked.

        The total is summed from the batch rows read in one statement (one snapshot), never
        read from another row: a commit between two reads could make them disagree.
        """
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(batch_view).where(batch_view.c.sku == sku).order_by(*_PREFERENCE)
            ).mappings()
            batches = [_batch(row) for row in rows]
            if not batches and self._product(connection, sku) is None:
                stocked = connection.execute(
                    select(stock_view.c.sku).where(stock_view.c.sku == sku)
                ).scalar()
                if stocked is None:
                    return None
            available = sum(int(batch["available"]) for batch in batches)
            return {"sku": sku, "available": available, "batches": batches}

    def batch(self, reference: str) -> View | None:
        """One batch, with its sku."""
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(batch_view).where(batch_view.c.reference == reference))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return {"reference": row["reference"], "sku": row["sku"], **_batch(row)}

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))
