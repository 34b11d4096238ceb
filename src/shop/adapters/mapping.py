"""The imperative mapping of the domain classes onto the shop's tables, owned by the shops.

The composition root maps the classes when it wires a shop (``start_mappers``) and unmaps them
when the last shop using them closes (``stop_mappers``): between shops, and in every domain
unit test, the domain classes are the plain classes they were written as. The flush-time rules
(``shop.adapters.versioning``) listen on each shop's own sessions (``watch_sessions``), never on
every ``Session`` of the process.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, composite, registry, relationship, sessionmaker

from shop.adapters import versioning
from shop.adapters.tables import (
    batches,
    customers,
    metadata,
    order_lines,
    orders,
    products,
    stocks,
)
from shop.domain.catalog import Product
from shop.domain.customers import Customer, Email
from shop.domain.inventory import Batch, Stock
from shop.domain.money import Money
from shop.domain.ordering import Address, Order, OrderLine

mapper_registry = registry(metadata=metadata)
_lock = threading.Lock()
_users = 0  # shops using the mapping: the first maps the classes, the last one unmaps them


def _address_or_none(*columns: str | None) -> Address | None:
    """An order without a shipping address stores four NULLs."""
    if all(value is None for value in columns):
        return None
    street, city, postcode, country = columns
    return Address(str(street), str(city), str(postcode), str(country))


def _map() -> None:
    mapper_registry.map_imperatively(
        Product,
        products,
        properties={"price": composite(Money, products.c.price_amount, products.c.price_currency)},
        version_id_col=products.c.version,
    )
    mapper_registry.map_imperatively(
        Customer,
        customers,
        properties={"_email": customers.c.email, "email": composite(Email, customers.c.email)},
        version_id_col=customers.c.version,
    )
    money = {
        name: composite(Money, orders.c[f"{name}_amount"], orders.c[f"{name}_currency"])
        for name in ("subtotal", "discount", "shipping_cost", "total")
    }
    line_price = order_lines.c.unit_price_amount, order_lines.c.unit_price_currency
    mapper_registry.map_imperatively(
        OrderLine,
        order_lines,
        properties={
            "_id": order_lines.c.id,
            "_order_pk": order_lines.c.order_pk,
            "_allocation_seq": order_lines.c.allocation_seq,
            "unit_price": composite(Money, *line_price),
        },
    )
    address = (orders.c.street, orders.c.city, orders.c.postcode, orders.c.country)
    mapper_registry.map_imperatively(
        Order,
        orders,
        properties={
            "_id": orders.c.id,
            "shipping_address": composite(_address_or_none, *address),
            "lines": relationship(
                OrderLine, order_by=order_lines.c.id, cascade="all, delete-orphan", lazy="joined"
            ),
            **money,
        },
        version_id_col=orders.c.version,
    )
    mapper_registry.map_imperatively(Batch, batches, properties={"_id": batches.c.id})
    mapper_registry.map_imperatively(
        Stock,
        stocks,
        properties={
            "batches": relationship(
                Batch, order_by=batches.c.id, cascade="all, delete-orphan", lazy="joined"
            )
        },
        version_id_col=stocks.c.version,
    )
    versioning.number_allocations(OrderLine.batch_reference, order_lines)


def start_mappers() -> None:
    """Map the domain classes onto the tables, for one more user; each call needs its
    ``stop_mappers``."""
    global _users
    with _lock:
        if not _users:
            _map()
            mapper_registry.configure()
        _users += 1


def stop_mappers() -> None:
    """One user fewer; the last one unmaps the domain classes (their instrumentation goes)."""
    global _users
    with _lock:
        if not _users:
            return
        _users -= 1
        if not _users:
            mapper_registry.dispose()


def watch_sessions(session_factory: sessionmaker[Session]) -> None:
    """Apply the flush-time rules to the sessions of this factory (a shop's own)."""
    versioning.version_roots_with_their_parts(session_factory, {Order: "lines", Stock: "batches"})
