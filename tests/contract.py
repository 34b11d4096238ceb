"""The names CONTRACT §3 gives the messages on Redis, written out here on purpose.

The shop's lists (``shop.domain.integration``) are classes whose wire names follow the class
names; these literal lists are what other systems were promised, so a renamed, added or dropped
message fails the tests that compare the two, instead of silently leaving the wire.
"""

from __future__ import annotations

#: CONTRACT §3 "Out: integration events".
CONTRACT_EVENTS = frozenset(
    {
        "ProductAdded",
        "ProductPriceChanged",
        "ProductDiscontinued",
        "BatchAdded",
        "BatchQuantityChanged",
        "OrderPlaced",
        "OrderConfirmed",
        "OrderBackordered",
        "OrderCancelled",
        "OrderShipped",
        "LineAllocated",
        "LineDeallocated",
        "OutOfStock",
    }
)

#: CONTRACT §3 "In: commands from other systems".
CONTRACT_COMMANDS = frozenset({"AddBatch", "ChangeBatchQuantity", "ShipOrder", "CancelOrder"})
