"""The read-model tables, in their own metadata: rebuilt from the event log, never written by hand.

``position`` is the id in the event log (outbox) of the event a row was last built from:
a row only moves forward, so an event handled twice or late cannot take it back in time.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

product_view = Table(
    "product_view",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_amount", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
)

customer_view = Table(
    "customer_view",
    metadata,
    Column("customer_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("tier", String(20), nullable=False),
    Column("position", BigInteger, nullable=False),
)

order_view = Table(
    "order_view",
    metadata,
    Column("order_id", String(100), primary_key=True),
    Column("customer_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    # The whole order view as JSON: answered as it is, no joins on reads.
    Column("document", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
)

customer_order_view = Table(
    "customer_order_view",
    metadata,
    Column("customer_id", String(100), primary_key=True),
    Column("order_id", String(100), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("total_amount", BigInteger, nullable=False),
    Column("total_currency", String(3), nullable=False),
    # The log position of the order's first event: creation order, unique, never ambiguous.
    Column("created_position", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
)
Index(
    "ix_customer_order_view_newest",
    customer_order_view.c.customer_id,
    customer_order_view.c.created_position,
)

stock_view = Table(
    "stock_view",
    metadata,
    Column("sku", String(32), primary_key=True),
    Column("available", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
)

batch_view = Table(
    "batch_view",
    metadata,
    Column("reference", String(100), primary_key=True),
    Column("sku", String(32), nullable=False, index=True),
    # Allocation preference: warehouse stock first, then the earliest eta.
    Column("rank", Integer, nullable=False),
    Column("eta", Date, nullable=True),
    Column("quantity", BigInteger, nullable=False),
    Column("allocated", BigInteger, nullable=False),
    Column("available", BigInteger, nullable=False),
)

TABLES = (product_view, customer_view, order_view, customer_order_view, stock_view, batch_view)
