"""Catalog use cases: add products, reprice and discontinue them."""

from __future__ import annotations

from shop.domain import commands
from shop.domain.catalog import Product
from shop.domain.errors import DuplicateSku, ProductNotFound
from shop.domain.kernel import Sku
from shop.domain.visa import SYSTEM, Action, Visa
from shop.service_layer.unit_of_work import ShopUnitOfWork


def add_product(command: commands.AddProduct, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Add a product; its sku must be new to the catalog."""
    visa.require(Action.MANAGE_CATALOG)
    with uow:
        if uow.products.get(command.sku) is not None:
            raise DuplicateSku(command.sku)
        uow.products.add(Product.add(command.sku, command.name, command.price, visa=visa))
        uow.commit()


def change_product_price(
    command: commands.ChangeProductPrice, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Set a product's catalog price; lines already ordered keep theirs."""
    visa.require(Action.MANAGE_CATALOG)
    with uow:
        _product(uow, command.sku).change_price(command.price, visa=visa)
        uow.commit()


def discontinue_product(
    command: commands.DiscontinueProduct, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Stop selling a product."""
    visa.require(Action.MANAGE_CATALOG)
    with uow:
        _product(uow, command.sku).discontinue(visa=visa)
        uow.commit()


def _product(uow: ShopUnitOfWork, sku: Sku) -> Product:
    product = uow.products.get(sku)
    if product is None:
        raise ProductNotFound(sku)
    return product
