"""Inventory: the batches of one sku and the allocation of order lines to them.

Which line holds which batch is recorded on the order line (``OrderLine.batch_reference``);
a batch only counts the units allocated to it and not yet shipped, so allocating never loads
past allocations. The service layer changes the counter and the order line in the same unit
of work: allocating, releasing and shipping alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import ClassVar

import attrs

from seedwork.core.model import AggregateRoot, Entity
from shop.domain import counts, events, text
from shop.domain.errors import (
    AllocationMissing,
    BatchNotFound,
    BatchQuantityTooLow,
    DuplicateBatch,
    InvalidValue,
)
from shop.domain.kernel import BatchReference, OrderId, Sku
from shop.domain.visa import SYSTEM, Action, Visa


@attrs.define(slots=False, eq=False)
class Batch(Entity):
    """Units of one sku bought together: in the warehouse (eta None) or arriving on ``eta``."""

    identity_field: ClassVar[str] = "reference"

    reference: BatchReference
    sku: Sku
    quantity: int
    eta: date | None = None
    allocated: int = 0

    @property
    def available(self) -> int:
        """Units not yet allocated to any order line."""
        return self.quantity - self.allocated

    def can_take(self, quantity: int) -> bool:
        """Whether a whole line of ``quantity`` fits in this batch."""
        return self.available >= quantity

    @property
    def preference(self) -> tuple[bool, date, str]:
        """Sort key: warehouse stock first, then the earliest eta, then the reference."""
        return (self.eta is not None, self.eta or date.min, self.reference)

    def view(self) -> events.BatchView:
        """This batch as the read models show it."""
        return events.BatchView(
            reference=self.reference,
            eta=self.eta,
            quantity=self.quantity,
            allocated=self.allocated,
            available=self.available,
        )


@attrs.define(slots=False, eq=False)
class Stock(AggregateRoot):
    """Every batch of one sku; keeps ``0 <= allocated <= quantity`` for each batch."""

    identity_field: ClassVar[str] = "sku"

    sku: Sku
    batches: list[Batch] = attrs.Factory(list)
    version: int = 0

    @property
    def available(self) -> int:
        """Units of the sku not yet allocated, over all batches."""
        return sum(batch.available for batch in self.batches)

    def batch(self, reference: BatchReference) -> Batch:
        """The batch with ``reference``; ``BatchNotFound`` when this stock has none."""
        for batch in self.batches:
            if batch.reference == reference:
                return batch
        raise BatchNotFound(reference)

    def has_batch(self, reference: BatchReference) -> bool:
        """Whether this stock holds a batch with ``reference``."""
        return any(batch.reference == reference for batch in self.batches)

    def add_batch(
        self,
        reference: BatchReference,
        quantity: int,
        eta: date | None = None,
        *,
        visa: Visa = SYSTEM,
    ) -> None:
        """Add a batch; its reference must be new."""
        visa.require(Action.MANAGE_STOCK)
        text.REFERENCE.check("reference", reference)
        counts.STOCK_QUANTITY.check("quantity", quantity)
        if self.has_batch(reference):
            raise DuplicateBatch(reference)
        self.batches.append(Batch(reference=reference, sku=self.sku, quantity=quantity, eta=eta))
        # No snapshot: adding a batch needs no other batch, so they may not have been loaded
        # (the read models add this one from ``BatchAdded``).
        self.record(
            events.BatchAdded(reference=reference, sku=self.sku, quantity=quantity, eta=eta)
        )

    def offer(self, waiting: Iterable[int]) -> None:
        """After a change that brought units: record ``StockOffered`` when some batch can take
        one of the ``waiting`` lines (given by quantity), so their reaction runs only then."""
        if any(self.can_allocate(quantity) for quantity in waiting):
            self.record(events.StockOffered(sku=self.sku))

    def can_allocate(self, quantity: int) -> bool:
        """Whether some batch can take a whole line of ``quantity`` now."""
        return any(batch.can_take(quantity) for batch in self.batches)

    def allocate(self, order_id: OrderId, sku: Sku, quantity: int) -> BatchReference | None:
        """Give a whole line one batch, preferring warehouse stock then the earliest eta.

        Returns the batch reference, or None (recording ``OutOfStock``) when no batch fits.
        """
        self._same_sku(sku)
        counts.QUANTITY.check("quantity", quantity)
        candidates = [batch for batch in self.batches if batch.can_take(quantity)]
        if not candidates:
            self.record(events.OutOfStock(order_id=order_id, sku=self.sku))
            # The line will wait: a decision about this stock as it is now. A new version makes
            # it conflict with any concurrent change bringing units, whose reaction could not
            # yet see the line waiting; otherwise the line would wait for units already there.
            self.version += 1
            return None
        batch = min(candidates, key=lambda candidate: candidate.preference)
        batch.allocated += quantity
        self.record(
            events.LineAllocated(
                order_id=order_id, sku=self.sku, quantity=quantity, batch_reference=batch.reference
            )
        )
        self._revised()
        return batch.reference

    def deallocate(
        self, order_id: OrderId, sku: Sku, quantity: int, batch_reference: BatchReference
    ) -> None:
        """Give a line's units back to its batch."""
        self._same_sku(sku)
        counts.QUANTITY.check("quantity", quantity)
        batch = self.batch(batch_reference)
        if quantity > batch.allocated:
            raise AllocationMissing(batch_reference, quantity, batch.allocated)
        batch.allocated -= quantity
        self.record(
            events.LineDeallocated(
                order_id=order_id, sku=self.sku, quantity=quantity, batch_reference=batch_reference
            )
        )
        self._revised()

    def ship(
        self, order_id: OrderId, sku: Sku, quantity: int, batch_reference: BatchReference
    ) -> None:
        """A line left the warehouse: its batch loses ``quantity`` and ``allocated`` by its units.

        The batch's available units do not change; ``BatchQuantityChanged`` tells its new quantity.
        """
        self._same_sku(sku)
        counts.QUANTITY.check("quantity", quantity)
        batch = self.batch(batch_reference)
        if quantity > batch.allocated:
            raise AllocationMissing(batch_reference, quantity, batch.allocated)
        batch.quantity -= quantity
        batch.allocated -= quantity
        self.record(
            events.BatchQuantityChanged(
                reference=batch_reference, sku=self.sku, quantity=batch.quantity
            )
        )
        self._revised()

    def change_batch_quantity(
        self,
        reference: BatchReference,
        quantity: int,
        allocations_newest_first: Iterable[tuple[str, int]] = (),
        *,
        visa: Visa = SYSTEM,
    ) -> list[tuple[str, int]]:
        """Set a batch's quantity, deallocating the newest lines until the allocations fit.

        ``allocations_newest_first`` lists the (order_id, quantity) of the lines that may give
        their units back; returns the ones that did.
        """
        visa.require(Action.MANAGE_STOCK)
        counts.STOCK_QUANTITY.check("quantity", quantity)
        batch = self.batch(reference)
        if quantity == batch.quantity:
            return []
        released: list[tuple[str, int]] = []
        allocated = batch.allocated
        for order_id, line_quantity in allocations_newest_first:
            if allocated <= quantity:
                break
            released.append((order_id, line_quantity))
            allocated -= line_quantity
        if allocated < 0:
            raise AllocationMissing(reference, batch.allocated - allocated, batch.allocated)
        if allocated > quantity:
            raise BatchQuantityTooLow(reference, quantity, allocated)
        batch.quantity = quantity
        batch.allocated = allocated
        for order_id, line_quantity in released:
            self.record(
                events.LineDeallocated(
                    order_id=OrderId(order_id),
                    sku=self.sku,
                    quantity=line_quantity,
                    batch_reference=reference,
                )
            )
        self.record(
            events.BatchQuantityChanged(reference=reference, sku=self.sku, quantity=quantity)
        )
        self._revised()
        return released

    def _same_sku(self, sku: Sku) -> None:
        if sku != self.sku:
            raise InvalidValue("sku", f"This stock holds {self.sku!r}, not {sku!r}.")

    def _revised(self) -> None:
        batches = sorted(self.batches, key=lambda batch: batch.preference)
        self.record(
            events.StockRevised(sku=self.sku, batches=tuple(batch.view() for batch in batches))
        )
