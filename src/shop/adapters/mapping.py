"""The imperative mapping of products and customers onto their tables, owned by the shops.

The composition root maps the classes when it wires a shop (``start_mappers``) and unmaps them
when the last shop using them closes (``stop_mappers``): between shops, and in every domain
unit test, the domain classes are the plain classes they were written as. Orders and stocks
are not mapped at all: their repositories read and write them with Core statements
(``shop.adapters.records``).
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import composite, registry

from shop.adapters.tables import customers, metadata, products
from shop.domain.catalog import Product
from shop.domain.customers import Customer, Email
from shop.domain.money import Money

mapper_registry = registry(metadata=metadata)
_lock = threading.Lock()
_users = 0  # shops using the mapping: the first maps the classes, the last one unmaps them


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
