"""Order endpoints: drafts, lines, address, and the order's life from placed to shipped."""

from __future__ import annotations

from flask import Blueprint, Response

from seedwork.core.messages import Command, Envelope, new_id
from shop.domain import commands, events, text
from shop.domain.visa import Action
from shop.entrypoints.http.api.door import send, visa
from shop.entrypoints.http.api.exchange import answer, command, json_body, no_body, path_id, views
from shop.views.documents import order_document

orders = Blueprint("orders", __name__)


def _order(order_id: str, status: int = 200) -> Response:
    return answer(views().order(order_id), status)


def _changed(message: Command, order_id: str, status: int = 200) -> Response:
    """Handle ``message`` and answer the order as its last commit left it.

    The view is the one the projection wrote in that commit, so it is not read back; a change
    that recorded no revision (none happened) is answered from the read model.
    """
    committed: list[Envelope] = []
    send(message, committed=committed)
    for envelope in reversed(committed):
        event = envelope.message
        if isinstance(event, events.OrderRevised) and event.order_id == order_id:
            return answer(order_document(event), status)
    return _order(order_id, status)


@orders.post("/orders")
def create_order() -> Response:
    """Start a draft order for a customer."""
    created = command(commands.CreateOrder, json_body(), order_id=new_id())
    send(created)
    return answer({"order_id": created.order_id}, 201, Location=f"/orders/{created.order_id}")


@orders.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    """An order: staff's and the warehouse's to read, or the customer's own."""
    visa().require(Action.READ_ORDER)
    view = views().order(path_id(order_id))
    if view is not None and not visa().may_see_order_of(str(view["customer_id"])):
        view = None
    return answer(view)


@orders.post("/orders/<order_id>/lines")
def add_line(order_id: str) -> Response:
    """Add units of a sku to a draft."""
    order_id = path_id(order_id)
    return _changed(command(commands.AddOrderLine, json_body(), order_id=order_id), order_id, 201)


@orders.delete("/orders/<order_id>/lines/<sku>")
def remove_line(order_id: str, sku: str) -> Response:
    """Remove a sku's line from a draft."""
    given = {"order_id": path_id(order_id), "sku": path_id(sku, text.SKU)}
    removed = command(commands.RemoveOrderLine, no_body(), **given)
    send(removed)
    return Response(status=204)


@orders.put("/orders/<order_id>/shipping-address")
def set_shipping_address(order_id: str) -> Response:
    """Set where a draft ships to."""
    order_id = path_id(order_id)
    return _changed(command(commands.SetShippingAddress, json_body(), order_id=order_id), order_id)


@orders.post("/orders/<order_id>/place")
def place(order_id: str) -> Response:
    """Place a draft; its lines take stock."""
    order_id = path_id(order_id)
    return _changed(command(commands.PlaceOrder, no_body(), order_id=order_id), order_id, 202)


@orders.post("/orders/<order_id>/cancel")
def cancel(order_id: str) -> Response:
    """Cancel an order that has not shipped."""
    order_id = path_id(order_id)
    return _changed(command(commands.CancelOrder, json_body(), order_id=order_id), order_id)


@orders.post("/orders/<order_id>/ship")
def ship(order_id: str) -> Response:
    """Ship a confirmed order."""
    order_id = path_id(order_id)
    return _changed(command(commands.ShipOrder, json_body(), order_id=order_id), order_id)
