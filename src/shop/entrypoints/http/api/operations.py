"""What each endpoint takes and answers, by method and Flask route rule, for the OpenAPI document.

Bodies are the command classes less the fields the path or the server sets; answers are the
view shapes (``shop.views.documents``) and the API's own (``answers``). Error statuses follow from
what an operation does: a body can be malformed (400, 413, 415, 422), a path names something
that may not exist (404), a command may be refused by a rule (409), the database may be down
(503), and a protected endpoint needs a token of the right role (401, 403).
"""

from __future__ import annotations

import attrs

from shop.domain import commands
from shop.entrypoints.http.api import answers
from shop.views import documents as shapes

JSON = "application/json"


@attrs.frozen(kw_only=True)
class Operation:
    """One endpoint: its summary, body (a command), success status and answer."""

    summary: str
    tag: str
    status: int = 200
    answer: type | None = None
    media_types: tuple[str, ...] = (JSON,)
    body: type | None = None
    server_sets: tuple[str, ...] = ()
    command: bool = False
    database: bool = True
    headers: tuple[str, ...] = ()
    unavailable: type | None = None


_ASSETS = ("text/javascript", "text/css", "image/png")

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation(
        summary="Health of the service and its dependencies (kept for v1 clients).",
        tag="operations",
        answer=answers.Readiness,
        unavailable=answers.Readiness,
        database=False,
    ),
    ("GET", "/health/live"): Operation(
        summary="Whether the process serves at all.",
        tag="operations",
        answer=answers.Liveness,
        database=False,
    ),
    ("GET", "/health/ready"): Operation(
        summary="Whether the database and Redis answer.",
        tag="operations",
        answer=answers.Readiness,
        unavailable=answers.Readiness,
        database=False,
    ),
    ("GET", "/metrics"): Operation(
        summary="Metrics in the Prometheus text format.",
        tag="operations",
        media_types=("text/plain",),
        database=False,
    ),
    ("GET", "/openapi.json"): Operation(
        summary="This OpenAPI 3.1 document.", tag="documents", database=False
    ),
    ("GET", "/asyncapi.json"): Operation(
        summary="The AsyncAPI 3.0 document of the Redis channels and streams.",
        tag="documents",
        database=False,
    ),
    ("GET", "/docs"): Operation(
        summary="An interactive page for this document.",
        tag="documents",
        media_types=("text/html",),
        database=False,
    ),
    ("GET", "/docs/assets/<name>"): Operation(
        summary="A file of the interactive page, served from the installed package.",
        tag="documents",
        media_types=_ASSETS,
        database=False,
    ),
    ("POST", "/products"): Operation(
        summary="Add a product to the catalog.",
        tag="catalog",
        status=201,
        answer=answers.NewProduct,
        body=commands.AddProduct,
        command=True,
    ),
    ("GET", "/products/<sku>"): Operation(
        summary="A product.", tag="catalog", answer=shapes.Product
    ),
    ("PUT", "/products/<sku>/price"): Operation(
        summary="Set a product's price.",
        tag="catalog",
        answer=shapes.Product,
        body=commands.ChangeProductPrice,
        command=True,
    ),
    ("POST", "/products/<sku>/discontinue"): Operation(
        summary="Stop selling a product.", tag="catalog", answer=shapes.Product, command=True
    ),
    ("POST", "/batches"): Operation(
        summary="Add a batch of a catalog sku (eta null: in the warehouse now).",
        tag="inventory",
        status=201,
        answer=answers.NewBatch,
        body=commands.AddBatch,
        command=True,
    ),
    ("PUT", "/batches/<reference>/quantity"): Operation(
        summary="Set a batch's quantity; lines that no longer fit go elsewhere or wait.",
        tag="inventory",
        answer=shapes.Batch,
        body=commands.ChangeBatchQuantity,
        command=True,
    ),
    ("GET", "/stock/<sku>"): Operation(
        summary="A sku's stock, batch by batch.", tag="inventory", answer=shapes.Stock
    ),
    ("POST", "/customers"): Operation(
        summary="Register a customer under a new id.",
        tag="customers",
        status=201,
        answer=answers.NewCustomer,
        body=commands.RegisterCustomer,
        server_sets=("customer_id",),
        command=True,
    ),
    ("GET", "/customers/<customer_id>"): Operation(
        summary="A customer.", tag="customers", answer=shapes.Customer
    ),
    ("GET", "/customers/<customer_id>/orders"): Operation(
        summary="A customer's orders, newest first.",
        tag="customers",
        answer=shapes.CustomerOrders,
    ),
    ("POST", "/orders"): Operation(
        summary="Start a draft order for a customer.",
        tag="orders",
        status=201,
        answer=answers.NewOrder,
        body=commands.CreateOrder,
        server_sets=("order_id",),
        command=True,
        headers=("Location",),
    ),
    ("GET", "/orders/<order_id>"): Operation(
        summary="An order.", tag="orders", answer=shapes.Order
    ),
    ("POST", "/orders/<order_id>/lines"): Operation(
        summary="Add units of a sku to a draft (the same sku again adds to its quantity).",
        tag="orders",
        status=201,
        answer=shapes.Order,
        body=commands.AddOrderLine,
        command=True,
    ),
    ("DELETE", "/orders/<order_id>/lines/<sku>"): Operation(
        summary="Remove a sku's line from a draft.", tag="orders", status=204, command=True
    ),
    ("PUT", "/orders/<order_id>/shipping-address"): Operation(
        summary="Set where a draft ships to.",
        tag="orders",
        answer=shapes.Order,
        body=commands.SetShippingAddress,
        command=True,
    ),
    ("POST", "/orders/<order_id>/place"): Operation(
        summary="Place a draft; its lines take stock (409 if empty, without address, or not a "
        "draft).",
        tag="orders",
        status=202,
        answer=shapes.Order,
        command=True,
    ),
    ("POST", "/orders/<order_id>/cancel"): Operation(
        summary="Cancel an order that has not shipped; its allocations are released.",
        tag="orders",
        answer=shapes.Order,
        body=commands.CancelOrder,
        command=True,
    ),
    ("POST", "/orders/<order_id>/ship"): Operation(
        summary="Ship a confirmed order (409 unless confirmed).",
        tag="orders",
        answer=shapes.Order,
        body=commands.ShipOrder,
        command=True,
    ),
}
