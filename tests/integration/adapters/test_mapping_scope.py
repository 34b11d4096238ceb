"""The mapping belongs to the shops that use it: once the last one closes, the domain classes
are plain classes again, and a shop booted afterwards maps them anew."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from shop.adapters import tables
from shop.adapters.database import create_database_engine
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain.catalog import Product
from shop.domain.customers import Customer
from shop.domain.inventory import Batch, Stock
from shop.domain.money import Money
from shop.domain.ordering import Order, OrderLine
from shop.views import tables as views

DOMAIN_CLASSES = (Product, Customer)
# Read and written with Core statements (shop.adapters.records): never instrumented.
UNMAPPED_CLASSES = (Order, OrderLine, Stock, Batch)


def mapped(cls: type) -> bool:
    return inspect(cls, raiseerr=False) is not None or "_sa_class_manager" in vars(cls)


def booted(path: Path) -> Shop:
    url = f"sqlite:///{path}"
    engine = create_database_engine(url)
    for metadata in (tables.metadata, views.metadata):
        metadata.create_all(engine)
    return bootstrap(Settings(database_url=url), engine=engine)


def test_the_classes_stay_mapped_while_a_shop_uses_them(tmp_path: Path):
    first, second = booted(tmp_path / "a.db"), booted(tmp_path / "b.db")
    assert all(mapped(cls) for cls in DOMAIN_CLASSES)
    first.close()
    assert all(mapped(cls) for cls in DOMAIN_CLASSES)
    second.close()
    assert not any(mapped(cls) for cls in DOMAIN_CLASSES)


def test_orders_and_stocks_are_never_mapped(tmp_path: Path):
    shop = booted(tmp_path / "a.db")
    try:
        assert not any(mapped(cls) for cls in UNMAPPED_CLASSES)
    finally:
        shop.close()


def test_closing_a_shop_twice_leaves_another_one_mapped(tmp_path: Path):
    first, second = booted(tmp_path / "a.db"), booted(tmp_path / "b.db")
    first.close()
    first.close()
    assert all(mapped(cls) for cls in DOMAIN_CLASSES)
    second.close()
    assert not any(mapped(cls) for cls in DOMAIN_CLASSES)


def test_a_shop_booted_after_the_last_one_closed_maps_the_classes_again(tmp_path: Path):
    path = tmp_path / "shop.db"
    shop = booted(path)
    shop.bus.handle(c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(1000, "EUR")))
    shop.bus.handle(c.AddBatch(reference="b-1", sku="LAMP", quantity=3))
    shop.bus.handle(
        c.RegisterCustomer(customer_id="ann", name="Ann", email="a@example.com", tier="gold")
    )
    shop.bus.handle(c.CreateOrder(order_id="o-1", customer_id="ann"))
    shop.close()
    assert not mapped(Product)
    again = booted(path)
    try:  # every kind of query again, on the classes mapped anew
        again.bus.handle(c.AddBatch(reference="b-2", sku="LAMP", quantity=3))
        with again.uow_factory() as uow:
            product = uow.products.get("LAMP")
            stock = uow.stocks.get_by_batch("b-1")
            order = uow.orders.get("o-1")
            assert product is not None and product.name == "Lamp"
            assert stock is not None and [b.reference for b in stock.batches] == ["b-1", "b-2"]
            assert order is not None and order.customer_id == "ann"
    finally:
        again.close()
    assert not mapped(Product)


def test_no_flush_rule_listens_on_any_session(tmp_path: Path):
    # Versions and allocation numbers are written by the order and stock records, not by
    # listeners on sessions (a process's other sessions are not the shop's business).
    shop = booted(tmp_path / "shop.db")
    try:
        with Session() as other, shop.session_factory() as own:
            assert not other.dispatch.before_flush
            assert not own.dispatch.before_flush
    finally:
        shop.close()
