"""Customer endpoints: registration, the customer, their orders."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response

from shop.domain import commands
from shop.entrypoints.api.http import answer, bus, command, json_body, path_id, views

customers = Blueprint("customers", __name__)


@customers.post("/customers")
def register_customer() -> Response:
    """Register a customer under a new id."""
    registered = command(commands.RegisterCustomer, json_body(), customer_id=str(uuid.uuid4()))
    bus().handle(registered)
    return answer({"customer_id": registered.customer_id}, 201)


@customers.get("/customers/<customer_id>")
def get_customer(customer_id: str) -> Response:
    """A customer."""
    return answer(views().customer(path_id(customer_id)))


@customers.get("/customers/<customer_id>/orders")
def customer_orders(customer_id: str) -> Response:
    """A customer's orders, newest first."""
    orders = views().customer_orders(path_id(customer_id))
    return answer(None if orders is None else {"orders": orders})
