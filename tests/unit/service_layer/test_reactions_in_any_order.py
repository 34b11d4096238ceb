"""Reactions delivered in any order and any number of times leak no stock and strand no order.

Random stories (orders placed over a few skus, cancelled, shipped; batches added, raised,
lowered) run on the real handlers and fakes. Every event waits in a ``HeldEventsBus`` until a
rule delivers one (event, handler) pair, chosen at random, sometimes twice. After every step the
stock invariant of CONTRACT §2 holds per batch; once every reaction has run, no order is left
waiting while some batch of its sku could take its line.
"""

from __future__ import annotations

import contextlib
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from seedwork.core.injection import Dependencies
from seedwork.core.retry import RetryPolicy
from seedwork.testing.fakes import FakeDeadLetters, FakeInbox
from seedwork.testing.held_events import HeldEventsBus
from shop.adapters.fakes import FakeShopStorage
from shop.domain import commands as c
from shop.domain import errors
from shop.domain.money import Money
from shop.domain.ordering import Order, OrderStatus
from shop.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS

SKUS = ("LAMP", "DESK", "RUG")
FAST = RetryPolicy(conflict_attempts=2, event_attempts=1, initial_wait=0.0001, max_wait=0.001)
NEXT_WEEK = date(2026, 12, 8)


class ReactionsInAnyOrder(RuleBasedStateMachine):
    """One shop on fakes whose reactions run when, and as often as, the test says."""

    def __init__(self) -> None:
        super().__init__()
        self.storage = FakeShopStorage()
        self.dead_letters = FakeDeadLetters()
        self.bus = HeldEventsBus(
            command_handlers=COMMAND_HANDLERS,
            event_handlers=EVENT_HANDLERS,
            dependencies=Dependencies(
                factories={"uow": self.storage.unit_of_work_factory(inbox=FakeInbox())}
            ),
            dead_letters=self.dead_letters,
            retry=FAST,
        )
        self.batches: list[str] = []
        self.orders: list[str] = []
        for sku in SKUS:
            self.bus.handle(c.AddProduct(sku=sku, name=sku.title(), price=Money.of(500, "EUR")))
        self.bus.handle(c.RegisterCustomer(customer_id="c-1", name="Ada", email="ada@example.com"))

    def command(self, command: c.Command) -> None:
        """Handle a command; a business rule may refuse it."""
        with contextlib.suppress(errors.RuleViolation):
            self.bus.handle(command)

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(1, 8), warehouse=st.booleans())
    def add_batch(self, sku: str, quantity: int, warehouse: bool) -> None:
        self.batches.append(f"b{len(self.batches)}")
        eta = None if warehouse else NEXT_WEEK
        self.bus.handle(c.AddBatch(reference=self.batches[-1], sku=sku, quantity=quantity, eta=eta))

    @precondition(lambda self: self.batches)
    @rule(data=st.data(), quantity=st.integers(0, 10))
    def change_batch_quantity(self, data: st.DataObject, quantity: int) -> None:
        reference = data.draw(st.sampled_from(self.batches))
        self.command(c.ChangeBatchQuantity(reference=reference, quantity=quantity))

    @rule(lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 4), min_size=1, max_size=3))
    def place_order(self, lines: dict[str, int]) -> None:
        order_id = f"o-{len(self.orders)}"
        self.orders.append(order_id)
        self.bus.handle(c.CreateOrder(order_id=order_id, customer_id="c-1"))
        for sku, quantity in lines.items():
            self.bus.handle(c.AddOrderLine(order_id=order_id, sku=sku, quantity=quantity))
        self.bus.handle(
            c.SetShippingAddress(
                order_id=order_id, street="1 Main St", city="Lyon", postcode="69001", country="FR"
            )
        )
        self.bus.handle(c.PlaceOrder(order_id=order_id))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        self.command(c.CancelOrder(order_id=order_id, reason="changed my mind"))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def ship_order(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders))
        self.command(c.ShipOrder(order_id=order_id, tracking_number="T-1"))

    @precondition(lambda self: self.bus.held)
    @rule(data=st.data(), again=st.booleans())
    def deliver_a_reaction(self, data: st.DataObject, again: bool) -> None:
        position = data.draw(st.integers(0, len(self.bus.held) - 1))
        self.bus.deliver(position, again=again)

    @rule(data=st.data())
    def settle_in_random_order(self, data: st.DataObject) -> None:
        while self.bus.held:
            self.bus.deliver(data.draw(st.integers(0, len(self.bus.held) - 1)))
        self.check_nothing_waits_for_stock_it_could_have()

    def teardown(self) -> None:
        self.bus.settle()
        self.stock_matches_the_lines()
        self.check_nothing_waits_for_stock_it_could_have()

    def every_order(self) -> list[Order]:
        return list(self.storage.orders)

    @invariant()
    def stock_matches_the_lines(self) -> None:
        orders = self.every_order()
        for stock in self.storage.stocks:
            for batch in stock.batches:
                held = sum(
                    line.quantity
                    for order in orders
                    if order.status != OrderStatus.SHIPPED
                    for line in order.lines
                    if line.batch_reference == batch.reference
                )
                assert 0 <= batch.allocated <= batch.quantity, batch
                assert batch.allocated == held, (batch, held)

    @invariant()
    def no_reaction_failed(self) -> None:
        assert self.dead_letters.letters == []

    def check_nothing_waits_for_stock_it_could_have(self) -> None:
        for order in self.every_order():
            allocated = [line.allocated for line in order.lines]
            if order.status in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED):
                assert all(allocated), order
            elif order.status == OrderStatus.BACKORDERED:
                for line in order.lines:
                    stock = self.storage.stocks.get(line.sku)
                    if not line.allocated and stock is not None:
                        assert not stock.can_allocate(line.quantity), (order, stock)
            else:
                # Every placed order was decided (confirmed or backordered) once settled.
                assert order.status in (OrderStatus.DRAFT, OrderStatus.CANCELLED), order
                assert not any(allocated), order


ReactionsInAnyOrder.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestReactionsInAnyOrder = ReactionsInAnyOrder.TestCase
