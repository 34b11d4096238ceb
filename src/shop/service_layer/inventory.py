"""Inventory use cases: batches, and allocating order lines to them.

A batch's ``allocated`` counter and the order line's ``batch_reference`` always change in
the same unit of work, so they cannot drift apart: the stock never counts a line that
does not hold it, and a line never holds stock the batch does not count.

Reactions act on the state they find, never on the picture an event painted: an event may be
delivered late, out of order or twice, and whatever it reports may have changed since. A
reaction only ever gives a waiting line stock, or releases what a cancelled order still holds.
A change that frees units reads the waiting lines in its own transaction and records
``StockOffered`` only when one fits, so the reaction never runs (nor opens a transaction) for
nothing.
"""

from __future__ import annotations

from seedwork.core.errors import ConcurrencyConflict
from shop.domain import commands, events
from shop.domain.errors import BatchNotFound, DuplicateBatch, UnknownSku
from shop.domain.inventory import Stock
from shop.domain.kernel import Sku
from shop.domain.ordering import Order
from shop.domain.visa import SYSTEM, Action, Visa
from shop.service_layer.ordering import load_order
from shop.service_layer.unit_of_work import ShopUnitOfWork


def add_batch(command: commands.AddBatch, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Add a batch of a catalog sku; its reference must be new across every sku.

    The stock's other batches are not loaded: a new batch needs none of them.
    """
    visa.require(Action.MANAGE_STOCK)
    with uow:
        receiving = uow.stocks.receiving(command.sku, command.reference)
        if not receiving.sku_known:
            raise UnknownSku(command.sku)
        if receiving.reference_taken:
            raise DuplicateBatch(command.reference)
        stock = receiving.stock
        if stock is None:
            stock = Stock(sku=command.sku)
            uow.stocks.add(stock)
        stock.add_batch(command.reference, command.quantity, command.eta, visa=visa)
        waiting = receiving.smallest_waiting
        stock.offer([] if waiting is None else [waiting])
        uow.commit()


def change_batch_quantity(
    command: commands.ChangeBatchQuantity, uow: ShopUnitOfWork, visa: Visa = SYSTEM
) -> None:
    """Set a batch's quantity; lines that no longer fit give their stock back, newest first."""
    visa.require(Action.MANAGE_STOCK)
    with uow:
        stock = uow.stocks.get_by_batch(command.reference)
        if stock is None:
            raise BatchNotFound(command.reference)
        batch = stock.batch(command.reference)
        available, excess = batch.available, batch.allocated - command.quantity
        # Only the newest lines that must give their units back are read, if any must.
        allocations = uow.orders.allocated_to(command.reference, excess) if excess > 0 else []
        if sum(quantity for _, quantity in allocations) < excess:
            # The lines count fewer units than the stock said: one shipped, was cancelled or
            # moved between the two reads. Not a refusal: read both again.
            raise ConcurrencyConflict(f"batch {command.reference} changed while it was read")
        released = stock.change_batch_quantity(
            command.reference, command.quantity, allocations, visa=visa
        )
        for order_id, _ in released:
            order = load_order(uow, order_id)
            if not order.holds(stock.sku, command.reference):
                # Shipped (or moved) since the allocations were read: decide again.
                raise ConcurrencyConflict(f"order {order_id} changed while stock was released")
            order.line_deallocated(stock.sku, command.reference)
        if batch.available > available:
            offer_to_waiting_lines(uow, stock)
        uow.commit()


def allocate(command: commands.Allocate, uow: ShopUnitOfWork, visa: Visa = SYSTEM) -> None:
    """Give one waiting line of a placed order stock, if any batch can take it whole."""
    visa.require(Action.MANAGE_STOCK)
    with uow:
        order = load_order(uow, command.order_id)
        if order.awaits_stock(command.sku):
            allocate_line(uow, order, command.sku)
        uow.commit()


def allocate_placed_order(event: events.OrderPlaced, uow: ShopUnitOfWork) -> None:
    """A placed order's lines take stock; the order is confirmed or backordered."""
    with uow:
        order = load_order(uow, event.order_id)
        for line in event.lines:
            if order.awaits_stock(line.sku):
                allocate_line(uow, order, line.sku)
        uow.commit()


def allocate_waiting_lines(event: events.StockOffered, uow: ShopUnitOfWork) -> None:
    """Stock that lines were found to fit goes to backordered lines of the sku, oldest first."""
    with uow:
        waiting = uow.orders.waiting_for(event.sku)
        stock = uow.stocks.get(event.sku) if waiting else None
        if stock is not None:
            for order_id, quantity in waiting:
                if not stock.can_allocate(quantity):
                    continue
                order = uow.orders.get(order_id)
                if order is not None and order.awaits_stock(event.sku):
                    allocate_line(uow, order, event.sku)
        uow.commit()


def offer_to_waiting_lines(uow: ShopUnitOfWork, stock: Stock) -> None:
    """After a change that freed units: if a waiting line fits, its reaction will run.

    The stock is loaded before the waiting lines are read, so a line that starts waiting in
    between bumped the stock's version: this change then conflicts and is decided again.
    """
    stock.offer(quantity for _, quantity in uow.orders.waiting_for(stock.sku))


def release_cancelled_order(event: events.OrderCancelled, uow: ShopUnitOfWork) -> None:
    """A cancelled order's lines give their stock back."""
    with uow:
        order = load_order(uow, event.order_id)
        for line in order.allocated_lines():
            reference = line.batch_reference
            assert reference is not None  # allocated_lines() hold a batch
            stock = uow.stocks.get(line.sku)
            if stock is None:
                raise BatchNotFound(reference)
            stock.deallocate(order.order_id, line.sku, line.quantity, reference)
            order.line_deallocated(line.sku, reference)
            offer_to_waiting_lines(uow, stock)
        uow.commit()


def reallocate_line(event: events.LineDeallocated, uow: ShopUnitOfWork) -> None:
    """A line that gave its stock back takes stock elsewhere while its order still wants it.

    The line was cleared with the batch's counter, in the change that released it; by now it
    may hold stock again (another reaction ran first): then there is nothing left to do.
    """
    with uow:
        order = uow.orders.get(event.order_id)
        if order is not None and order.awaits_stock(event.sku):
            allocate_line(uow, order, event.sku)
        uow.commit()


def allocate_line(uow: ShopUnitOfWork, order: Order, sku: Sku) -> None:
    """Allocate the order's ``sku`` line and record the outcome on the order, together."""
    stock = stock_of(uow, sku)
    reference = stock.allocate(order.order_id, sku, order.line(sku).quantity)
    if reference is None:
        order.line_out_of_stock(sku)
    else:
        order.line_allocated(sku, reference)


def stock_of(uow: ShopUnitOfWork, sku: Sku) -> Stock:
    """The stock of ``sku``, created empty when the sku never had one."""
    stock = uow.stocks.get(sku)
    if stock is None:
        stock = Stock(sku=sku)
        uow.stocks.add(stock)
    return stock
