"""What other systems see of the shop on Redis (CONTRACT §3), as message classes.

``INTEGRATION_EVENTS`` are published, the other events stay in-process; ``ACCEPTED_COMMANDS``
may come in, anything else is dead-lettered. A message's wire name is its class's name
(``Message.message_name``): renaming a class renames it on the wire, which the contract tests
(``tests/contract.py`` holds the contract's names, written out) refuse.
"""

from __future__ import annotations

from collections.abc import Iterable

from seedwork.core.messages import Command, Event, Message
from shop.domain import commands, events

#: Commands other systems may send over Redis (CONTRACT §3).
ACCEPTED_COMMANDS: tuple[type[Command], ...] = (
    commands.AddBatch,
    commands.ChangeBatchQuantity,
    commands.ShipOrder,
    commands.CancelOrder,
)

#: Events published to Redis (CONTRACT §3).
INTEGRATION_EVENTS: tuple[type[Event], ...] = (
    events.ProductAdded,
    events.ProductPriceChanged,
    events.ProductDiscontinued,
    events.BatchAdded,
    events.BatchQuantityChanged,
    events.OrderPlaced,
    events.OrderConfirmed,
    events.OrderBackordered,
    events.OrderCancelled,
    events.OrderShipped,
    events.LineAllocated,
    events.LineDeallocated,
    events.OutOfStock,
)


def wire_names(messages: Iterable[type[Message]]) -> tuple[str, ...]:
    """The names the ``messages`` have on the wire, in order."""
    return tuple(message.message_name() for message in messages)
