"""Customer endpoints: registration, the customer, their orders."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from seedwork.core.messages import new_id
from shop.domain import commands
from shop.domain.visa import Action
from shop.entrypoints.http.api.door import send, visa
from shop.entrypoints.http.api.exchange import answer, command, json_body, path_id, views

customers = Blueprint("customers", __name__)


@customers.post("/customers")
def register_customer() -> Response:
    """Register a customer under a new id."""
    registered = command(commands.RegisterCustomer, json_body(), customer_id=new_id())
    send(registered)
    return answer({"customer_id": registered.customer_id}, 201)


def _visible_customer(customer_id: str) -> str:
    """The customer id of the path when this visa sees that customer; else 403 or 404."""
    visa().require(Action.READ_CUSTOMER)
    customer_id = path_id(customer_id)
    if not visa().may_see_customer(customer_id):
        abort(404, description="no such resource")
    return customer_id


@customers.get("/customers/<customer_id>")
def get_customer(customer_id: str) -> Response:
    """A customer: staff's to read, or the customer's own."""
    customer_id = _visible_customer(customer_id)
    return answer(views().customer(customer_id))


@customers.get("/customers/<customer_id>/orders")
def customer_orders(customer_id: str) -> Response:
    """A customer's orders, newest first: staff's to read, or the customer's own."""
    orders = views().customer_orders(_visible_customer(customer_id))
    return answer(None if orders is None else {"orders": orders})
