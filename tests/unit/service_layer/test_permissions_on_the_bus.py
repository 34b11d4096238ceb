"""CONTRACT §4 inside the domain: the same table holds for commands sent straight to the bus.

No Flask here: each command goes to the bus in an envelope naming its principal, and the
aggregates refuse what the visa does not allow (``Forbidden`` for the role, not found for data
that is not its own). Reads have no command; the HTTP matrix covers them.
"""

from __future__ import annotations

import pytest

from seedwork.core.bus import MessageBus
from seedwork.core.messages import Envelope
from shop.domain import commands as c
from shop.domain.errors import Forbidden, NotFound
from shop.domain.money import Money
from shop.domain.visa import Role, Visa
from tests.permissions import ADDRESS, Endpoint, World, case_id, cases, visa_of
from tests.unit.entrypoints.conftest import FakeReadModels, fake_bus

CASES = [case for case in cases() if case[1].command is not None and case[2] != "anonymous"]


def build_world(views: FakeReadModels) -> tuple[World, MessageBus]:
    """The world of the HTTP matrix, built by direct bus calls (as the system)."""
    bus = fake_bus(views)
    sku, batch = "MATRIX-CHAIR", "MATRIX-B1"
    bus.handle(c.AddProduct(sku=sku, name="Chair", price=Money(1250, "EUR")))
    bus.handle(c.AddBatch(reference=batch, sku=sku, quantity=10, eta=None))
    for customer in ("C-OWN", "C-OTHER"):
        bus.handle(c.RegisterCustomer(customer_id=customer, name="Ann", email="a@example.com"))
    for order in ("O-DRAFT", "O-CONFIRMED"):
        bus.handle(c.CreateOrder(order_id=order, customer_id="C-OWN"))
        bus.handle(c.AddOrderLine(order_id=order, sku=sku, quantity=1))
        bus.handle(c.SetShippingAddress(order_id=order, **ADDRESS))
    bus.handle(c.PlaceOrder(order_id="O-CONFIRMED"))
    assert views.orders["O-CONFIRMED"]["status"] == "confirmed"
    world = World(
        sku=sku, batch=batch, own="C-OWN", other="C-OTHER", draft="O-DRAFT", confirmed="O-CONFIRMED"
    )
    return world, bus


def test_every_command_of_the_table_is_tested_on_the_bus() -> None:
    assert {endpoint.name for _, endpoint, _, _ in CASES} >= {
        "POST /products", "POST /batches", "POST /customers", "POST /orders",
        "POST /orders/<order_id>/ship", "POST /orders/<order_id>/cancel",
    }  # fmt: skip


@pytest.mark.parametrize(("row", "endpoint", "principal", "status"), CASES, ids=case_id)
def test_the_domain_holds_every_command_to_the_table(
    row: str, endpoint: Endpoint, principal: str, status: int
) -> None:
    world, bus = build_world(FakeReadModels())
    assert endpoint.command is not None
    envelope = Envelope(message=endpoint.command(world), principal=visa_of(principal, world))
    if status == 403:
        with pytest.raises(Forbidden):
            bus.handle(envelope)
    elif status == 404:
        with pytest.raises(NotFound):
            bus.handle(envelope)
    else:
        bus.handle(envelope)


def test_a_refused_command_changes_nothing() -> None:
    views = FakeReadModels()
    world, bus = build_world(views)
    before = dict(views.orders[world.draft])
    stranger = Visa("mallory", Role.CUSTOMER, world.other)
    with pytest.raises(NotFound):
        bus.handle(Envelope(message=c.PlaceOrder(order_id=world.draft), principal=stranger))
    assert views.orders[world.draft] == before
