"""The handler registry: one handler per command, the reactions to each event.

Allocation reactions change the stock and the order line together (see
``shop.service_layer.inventory``), so ``LineAllocated`` and ``OutOfStock`` need no
handler here: the order already reflects them when they are published.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from seedwork.core.errors import ConfigurationError
from seedwork.core.messages import Command, Envelope, Event
from shop.domain import commands, events
from shop.domain.visa import SYSTEM, Visa
from shop.service_layer import catalog, customers, inventory, ordering

COMMAND_HANDLERS: dict[type[Command], Callable[..., Any]] = {
    commands.AddProduct: catalog.add_product,
    commands.ChangeProductPrice: catalog.change_product_price,
    commands.DiscontinueProduct: catalog.discontinue_product,
    commands.RegisterCustomer: customers.register_customer,
    commands.CreateOrder: ordering.create_order,
    commands.AddOrderLine: ordering.add_order_line,
    commands.RemoveOrderLine: ordering.remove_order_line,
    commands.SetShippingAddress: ordering.set_shipping_address,
    commands.PlaceOrder: ordering.place_order,
    commands.CancelOrder: ordering.cancel_order,
    commands.ShipOrder: ordering.ship_order,
    commands.AddBatch: inventory.add_batch,
    commands.ChangeBatchQuantity: inventory.change_batch_quantity,
    commands.Allocate: inventory.allocate,
}


def visa_of(envelope: Envelope) -> Visa:
    """The visa a handler acts under: a command's sender's, the system's for reactions.

    A command without a principal comes from an in-process caller (a test, the CLI), which the
    bus trusts; the doors (HTTP, Redis) always name one.
    """
    principal = envelope.principal
    if not isinstance(envelope.message, Command) or principal is None:
        return SYSTEM
    if not isinstance(principal, Visa):
        raise ConfigurationError(f"a command's principal must be a Visa, not {principal!r}")
    return principal


#: What handlers get from the envelope they handle, by parameter name.
FROM_ENVELOPE = {"visa": visa_of}

EVENT_HANDLERS: dict[type[Event], list[Callable[..., Any]]] = {
    events.OrderPlaced: [inventory.allocate_placed_order],
    events.OrderCancelled: [inventory.release_cancelled_order],
    # The line that gave stock back looks for more first (its event comes first); units a
    # waiting line fits go to the waiting lines.
    events.LineDeallocated: [inventory.reallocate_line],
    events.StockOffered: [inventory.allocate_waiting_lines],
}
