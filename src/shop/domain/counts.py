"""Counts: how many items or units, a whole number (never a bool) from some minimum.

One rule per kind of count, as for text (``shop.domain.text``): checked by the commands at the
door (a rule is an attrs validator that says its JSON Schema) and again by the aggregates.
"""

from __future__ import annotations

from typing import Any

import attrs

from shop.domain.errors import InvalidValue


@attrs.frozen
class Count:
    """A whole number of at least ``minimum``."""

    minimum: int

    def check(self, field: str, value: object) -> int:
        """``value`` when it is such a count, else ``InvalidValue`` naming ``field``."""
        if isinstance(value, bool) or not isinstance(value, int) or value < self.minimum:
            raise InvalidValue(field, self.describe(field))
        return value

    def __call__(self, _: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        """As an attrs validator."""
        self.check(attribute.name, value)

    def describe(self, field: str) -> str:
        """What the field allows, in a sentence."""
        return f"The {field.replace('_', ' ')} is a whole number >= {self.minimum}."

    def json_schema(self) -> dict[str, Any]:
        """The rule as JSON Schema keywords."""
        return {"minimum": self.minimum}


#: Items in an order line, units allocated, released or shipped: at least one.
QUANTITY = Count(1)
#: A batch's purchased quantity: zero or more.
STOCK_QUANTITY = Count(0)
