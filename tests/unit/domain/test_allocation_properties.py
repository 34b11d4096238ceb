"""Random sequences of stock changes never over-allocate, and a line holds one batch at most.

The state machine plays the service layer's part: it changes the stock's counters and
the order lines' batch references together, as the handlers do in one unit of work.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from shop.domain import events
from shop.domain.inventory import Stock

references = st.sampled_from([f"b{n}" for n in range(6)])
etas = st.none() | st.integers(min_value=0, max_value=30).map(
    lambda days: date(2026, 12, 1) + timedelta(days=days)
)


class AllocationMachine(RuleBasedStateMachine):
    """A stock of one sku and the order lines that take from it."""

    def __init__(self) -> None:
        super().__init__()
        self.stock = Stock(sku="LAMP")
        self.lines: dict[str, tuple[int, str | None]] = {}  # order id -> (quantity, batch)
        self.allocated_in_order: list[str] = []  # order ids, oldest allocation first

    @rule(reference=references, quantity=st.integers(min_value=0, max_value=20), eta=etas)
    def add_batch(self, reference: str, quantity: int, eta: date | None) -> None:
        if not self.stock.has_batch(reference):
            self.stock.add_batch(reference, quantity, eta)

    @rule(quantity=st.integers(min_value=1, max_value=8))
    def allocate_a_new_line(self, quantity: int) -> None:
        order_id = f"o-{len(self.lines)}"
        self.lines[order_id] = (quantity, None)
        self._allocate(order_id)

    @rule(data=st.data())
    def retry_a_waiting_line(self, data: st.DataObject) -> None:
        waiting = [order_id for order_id, (_, batch) in self.lines.items() if batch is None]
        if waiting:
            self._allocate(data.draw(st.sampled_from(waiting)))

    @rule(data=st.data())
    def release_a_line(self, data: st.DataObject) -> None:
        holding = [order_id for order_id, (_, batch) in self.lines.items() if batch is not None]
        if holding:
            order_id = data.draw(st.sampled_from(holding))
            quantity, batch = self.lines[order_id]
            assert batch is not None
            self.stock.deallocate(order_id, "LAMP", quantity, batch)
            self._clear(order_id)

    @rule(reference=references, quantity=st.integers(min_value=0, max_value=20))
    def change_batch_quantity(self, reference: str, quantity: int) -> None:
        if not self.stock.has_batch(reference):
            return
        newest_first = [
            (order_id, self.lines[order_id][0])
            for order_id in reversed(self.allocated_in_order)
            if self.lines[order_id][1] == reference
        ]
        for order_id, _ in self.stock.change_batch_quantity(reference, quantity, newest_first):
            self._clear(order_id)

    def _allocate(self, order_id: str) -> None:
        quantity, batch = self.lines[order_id]
        assert batch is None, "a line is allocated at most once"
        reference = self.stock.allocate(order_id, "LAMP", quantity)
        if reference is not None:
            self.lines[order_id] = (quantity, reference)
            self.allocated_in_order.append(order_id)

    def _clear(self, order_id: str) -> None:
        self.lines[order_id] = (self.lines[order_id][0], None)
        self.allocated_in_order.remove(order_id)

    @invariant()
    def never_over_allocates(self) -> None:
        for batch in self.stock.batches:
            assert 0 <= batch.allocated <= batch.quantity

    @invariant()
    def counters_match_the_lines(self) -> None:
        for batch in self.stock.batches:
            held = sum(q for q, ref in self.lines.values() if ref == batch.reference)
            assert batch.allocated == held

    @invariant()
    def events_never_allocate_a_line_twice(self) -> None:
        holding: set[str] = set()
        for event in self.stock.pending_events:
            if isinstance(event, events.LineAllocated):
                assert event.order_id not in holding
                holding.add(event.order_id)
            elif isinstance(event, events.LineDeallocated):
                holding.discard(event.order_id)


AllocationMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40)
TestAllocation = AllocationMachine.TestCase
