"""Catalog endpoints: products, their price, discontinuing them."""

from __future__ import annotations

from flask import Blueprint, Response

from shop.domain import commands, text
from shop.entrypoints.http.api.door import send
from shop.entrypoints.http.api.exchange import answer, command, json_body, no_body, path_id, views

catalog = Blueprint("catalog", __name__)


@catalog.post("/products")
def add_product() -> Response:
    """Add a product to the catalog."""
    added = command(commands.AddProduct, json_body())
    send(added)
    return answer({"sku": added.sku}, 201)


@catalog.get("/products/<sku>")
def get_product(sku: str) -> Response:
    """A product."""
    return answer(views().product(path_id(sku, text.SKU)))


@catalog.put("/products/<sku>/price")
def change_price(sku: str) -> Response:
    """Set a product's price."""
    sku = path_id(sku, text.SKU)
    send(command(commands.ChangeProductPrice, json_body(), sku=sku))
    return answer(views().product(sku))


@catalog.post("/products/<sku>/discontinue")
def discontinue(sku: str) -> Response:
    """Stop selling a product."""
    sku = path_id(sku, text.SKU)
    send(command(commands.DiscontinueProduct, no_body(), sku=sku))
    return answer(views().product(sku))
