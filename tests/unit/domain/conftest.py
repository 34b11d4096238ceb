"""Domain tests run on the classes as written: never on classes a shop left mapped."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from shop.domain.catalog import Product
from shop.domain.customers import Customer
from shop.domain.inventory import Batch, Stock
from shop.domain.ordering import Order, OrderLine


@pytest.fixture(autouse=True)
def _plain_domain_classes() -> None:
    """Whatever ran before in this process (an integration test's shop, say) has unmapped them."""
    for cls in (Product, Customer, Order, OrderLine, Stock, Batch):
        assert inspect(cls, raiseerr=False) is None, f"{cls.__name__} is still mapped"
        assert "_sa_class_manager" not in vars(cls)
