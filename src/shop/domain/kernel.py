"""The shared kernel: what every bounded context may name, the ids and the customer's tier.

The contexts talk through events and refer to each other by id only (import-linter keeps them
independent), so the ids and the tier live here, below them all. An id is a ``NewType`` of
``str``: nothing at run time (on the wire and in the database it is its text), but the type
checker tells a sku from an order id.
"""

from __future__ import annotations

import enum
from typing import NewType

from shop.domain import text
from shop.domain.errors import InvalidValue

#: A product's stock-keeping unit: its id in the catalog, the inventory and order lines.
Sku = NewType("Sku", str)
#: An order's id.
OrderId = NewType("OrderId", str)
#: A customer's id.
CustomerId = NewType("CustomerId", str)
#: A batch's reference (its id, part of ``/batches/<reference>``).
BatchReference = NewType("BatchReference", str)


class Tier(enum.StrEnum):
    """A customer's loyalty tier; higher tiers earn a larger discount.

    On the wire and in the database a tier is its value (``"gold"``).
    """

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @classmethod
    def parse(cls, value: object) -> Tier:
        """The tier named ``value`` (text first), else ``InvalidValue`` on field ``tier``."""
        if isinstance(value, cls):
            return value
        name = text.TIER.check("tier", value)
        try:
            return cls(name)
        except ValueError:
            names = ", ".join(tier.value for tier in cls)
            raise InvalidValue("tier", f"A tier is one of {names}; got {name!r}.") from None
