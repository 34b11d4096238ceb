"""The permission table of CONTRACT §4, read from docs/CONTRACT.md, and what each row promises.

Every endpoint is listed once under its row; each principal's promised status follows from the
row's cell: ``yes`` → the endpoint's success, ``no`` → 401 (public column) or 403, ``its own``
→ success for its own data and 404 for another's, ``for its own … (else 403)`` → 403 for another's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from seedwork.core.messages import Command
from shop.domain import commands as c
from shop.domain.money import Money
from shop.domain.visa import Role, Visa

CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "CONTRACT.md"
PRINCIPALS = ("anonymous", "customer-own", "customer-other", "warehouse", "staff")
COLUMN_NAMES = ("public", "customer", "warehouse", "staff")
COLUMNS = {"anonymous": "public", "customer-own": "customer", "customer-other": "customer"}
ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}
PRICE = {"amount": 1250, "currency": "EUR"}


def contract_rows() -> dict[str, dict[str, str]]:
    """The §4 table: row label → {"public", "customer", "warehouse", "staff"} → cell text."""
    text = CONTRACT.read_text()
    section = text[text.index("## 4. Authentication and authorization") :]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in {"action", "---"}:
            continue
        rows[cells[0]] = dict(zip(COLUMN_NAMES, cells[1:], strict=True))
    return rows


@attrs.frozen
class World:
    """What every case starts from: a product, a batch, two customers, orders of the first."""

    sku: str
    batch: str
    own: str
    other: str
    draft: str  # a draft of ``own`` with a line and an address
    confirmed: str  # a placed, confirmed order of ``own``


@attrs.frozen
class Endpoint:
    """One endpoint: how to call it in a world, its success status, and its command if any."""

    method: str
    rule: str
    success: int
    path: Callable[[World], str]
    body: Callable[[World], Any] = lambda w: None
    command: Callable[[World], Command] | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule}"


def _new(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


E = Endpoint
ROWS: dict[str, list[Endpoint]] = {
    "`GET /health*`, `GET /products/<sku>`, `GET /openapi.json`, `/asyncapi.json`, `/docs`": [
        E("GET", "/health", 200, lambda w: "/health"),
        E("GET", "/health/live", 200, lambda w: "/health/live"),
        E("GET", "/health/ready", 200, lambda w: "/health/ready"),
        E("GET", "/products/<sku>", 200, lambda w: f"/products/{w.sku}"),
        E("GET", "/openapi.json", 200, lambda w: "/openapi.json"),
        E("GET", "/asyncapi.json", 200, lambda w: "/asyncapi.json"),
        E("GET", "/docs", 200, lambda w: "/docs"),
        # The page's own files are part of /docs.
        E("GET", "/docs/assets/<name>", 200, lambda w: "/docs/assets/shop-docs.js"),
    ],
    "`GET /metrics`": [E("GET", "/metrics", 200, lambda w: "/metrics")],
    "`POST /products`, `PUT …/price`, `POST …/discontinue`": [
        E(
            "POST", "/products", 201, lambda w: "/products",
            lambda w: {"sku": _new("P"), "name": "A chair", "price": PRICE},
            lambda w: c.AddProduct(sku=_new("P"), name="A chair", price=Money(1250, "EUR")),
        ),
        E(
            "PUT", "/products/<sku>/price", 200, lambda w: f"/products/{w.sku}/price",
            lambda w: {"price": {"amount": 999, "currency": "EUR"}},
            lambda w: c.ChangeProductPrice(sku=w.sku, price=Money(999, "EUR")),
        ),
        E(
            "POST", "/products/<sku>/discontinue", 200,
            lambda w: f"/products/{w.sku}/discontinue",
            command=lambda w: c.DiscontinueProduct(sku=w.sku),
        ),
    ],
    "`POST /batches`, `PUT /batches/<ref>/quantity`, `GET /stock/<sku>`": [
        E(
            "POST", "/batches", 201, lambda w: "/batches",
            lambda w: {"reference": _new("B"), "sku": w.sku, "quantity": 5, "eta": None},
            lambda w: c.AddBatch(reference=_new("B"), sku=w.sku, quantity=5, eta=None),
        ),
        E(
            "PUT", "/batches/<reference>/quantity", 200,
            lambda w: f"/batches/{w.batch}/quantity", lambda w: {"quantity": 30},
            lambda w: c.ChangeBatchQuantity(reference=w.batch, quantity=30),
        ),
        E("GET", "/stock/<sku>", 200, lambda w: f"/stock/{w.sku}"),
    ],
    "`POST /customers`": [
        E(
            "POST", "/customers", 201, lambda w: "/customers",
            lambda w: {"name": "Bea", "email": "bea@example.com"},
            lambda w: c.RegisterCustomer(customer_id=_new("C"), name="Bea", email="b@example.com"),
        ),
    ],
    "`GET /customers/<id>`, `GET /customers/<id>/orders`": [
        E("GET", "/customers/<customer_id>", 200, lambda w: f"/customers/{w.own}"),
        E("GET", "/customers/<customer_id>/orders", 200, lambda w: f"/customers/{w.own}/orders"),
    ],
    "`POST /orders`": [
        E(
            "POST", "/orders", 201, lambda w: "/orders", lambda w: {"customer_id": w.own},
            lambda w: c.CreateOrder(order_id=_new("O"), customer_id=w.own),
        ),
    ],
    "lines, shipping address, place (`/orders/<id>/…`)": [
        E(
            "POST", "/orders/<order_id>/lines", 201, lambda w: f"/orders/{w.draft}/lines",
            lambda w: {"sku": w.sku, "quantity": 1},
            lambda w: c.AddOrderLine(order_id=w.draft, sku=w.sku, quantity=1),
        ),
        E(
            "DELETE", "/orders/<order_id>/lines/<sku>", 204,
            lambda w: f"/orders/{w.draft}/lines/{w.sku}",
            command=lambda w: c.RemoveOrderLine(order_id=w.draft, sku=w.sku),
        ),
        E(
            "PUT", "/orders/<order_id>/shipping-address", 200,
            lambda w: f"/orders/{w.draft}/shipping-address", lambda w: ADDRESS,
            lambda w: c.SetShippingAddress(order_id=w.draft, **ADDRESS),
        ),
        E(
            "POST", "/orders/<order_id>/place", 202, lambda w: f"/orders/{w.draft}/place",
            command=lambda w: c.PlaceOrder(order_id=w.draft),
        ),
    ],
    "`POST /orders/<id>/cancel`": [
        E(
            "POST", "/orders/<order_id>/cancel", 200, lambda w: f"/orders/{w.draft}/cancel",
            lambda w: {"reason": "changed my mind"},
            lambda w: c.CancelOrder(order_id=w.draft, reason="changed my mind"),
        ),
    ],
    "`POST /orders/<id>/ship`": [
        E(
            "POST", "/orders/<order_id>/ship", 200, lambda w: f"/orders/{w.confirmed}/ship",
            lambda w: {"tracking_number": "TRACK-1"},
            lambda w: c.ShipOrder(order_id=w.confirmed, tracking_number="TRACK-1"),
        ),
    ],
    "`GET /orders/<id>`": [E("GET", "/orders/<order_id>", 200, lambda w: f"/orders/{w.draft}")],
}  # fmt: skip


def promised(cell: str, principal: str, endpoint: Endpoint) -> int:
    """The status the contract promises ``principal`` for ``endpoint`` given its row's cell."""
    if cell == "yes":
        return endpoint.success
    if cell == "no":
        return 401 if principal == "anonymous" else 403
    if principal == "customer-own":
        return endpoint.success
    if "else 403" in cell:
        return 403
    if cell.startswith("its own"):
        return 404
    raise AssertionError(f"a cell the test does not know: {cell!r}")


def cases() -> list[tuple[str, Endpoint, str, int]]:
    """(row, endpoint, principal, promised status) for every endpoint and principal."""
    found = []
    for row, cells in contract_rows().items():
        for endpoint in ROWS[row]:
            for principal in PRINCIPALS:
                cell = cells[COLUMNS.get(principal, principal)]
                found.append((row, endpoint, principal, promised(cell, principal, endpoint)))
    return found


def visa_of(principal: str, world: World) -> Visa:
    """The visa of a principal (not anonymous) in ``world``."""
    if principal == "customer-own":
        return Visa(f"customer-{world.own}", Role.CUSTOMER, world.own)
    if principal == "customer-other":
        return Visa(f"customer-{world.other}", Role.CUSTOMER, world.other)
    return Visa(f"a-{principal}", Role(principal))


def case_id(case: Any) -> str:
    """A readable test id."""
    if isinstance(case, Endpoint):
        return case.name
    return str(case) if not isinstance(case, str) or len(case) < 30 else "row"


def rule_pattern(rule: str) -> str:
    """A rule with its converters dropped (``<string:sku>`` → ``<sku>``), as Flask lists it."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule)
