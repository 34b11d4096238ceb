"""Audit (CONTRACT §3): every event names the subject whose command led to it, through reactions."""

from __future__ import annotations

from seedwork.core.messages import Envelope
from shop.domain import commands as c
from shop.domain.money import Money
from shop.domain.visa import Role, Visa
from tests.unit.service_layer.test_handlers import Shop

ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}


def test_the_events_of_a_command_and_of_its_reactions_name_its_sender() -> None:
    shop = Shop()
    shop(
        c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(2_000, "EUR")),
        c.AddBatch(reference="b-1", sku="LAMP", quantity=5),
        c.RegisterCustomer(customer_id="c-1", name="Ada", email="ada@example.com"),
    )
    ada = Visa("ada@example.com", Role.CUSTOMER, "c-1")
    for command in (
        c.CreateOrder(order_id="o-1", customer_id="c-1"),
        c.AddOrderLine(order_id="o-1", sku="LAMP", quantity=2),
        c.SetShippingAddress(order_id="o-1", **ADDRESS),
    ):
        shop.bus.handle(Envelope(message=command, principal=ada))
    before = len(shop.commits)
    shop.bus.handle(Envelope(message=c.PlaceOrder(order_id="o-1"), principal=ada))
    placed = [envelope for commit in shop.commits[before:] for envelope in commit]
    names = {envelope.name for envelope in placed}
    assert {"OrderPlaced", "LineAllocated", "OrderConfirmed"} <= names  # reactions' events too
    assert {envelope.actor for envelope in placed} == {"ada@example.com"}


def test_the_events_of_an_in_process_command_name_no_one() -> None:
    shop = Shop()
    before = len(shop.commits)
    shop(c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(2_000, "EUR")))
    assert {envelope.actor for commit in shop.commits[before:] for envelope in commit} == {None}


def test_reactions_carry_the_actor_but_act_as_the_system() -> None:
    visa = Visa("warehouse-7", Role.WAREHOUSE)
    assert Envelope(message=c.PlaceOrder(order_id="o"), principal=visa).actor == "warehouse-7"
    caused = Envelope(message=c.PlaceOrder(order_id="o"), principal=visa).caused(
        c.PlaceOrder(order_id="p")
    )
    assert caused.actor == "warehouse-7" and caused.principal is None  # reactions: the system
