"""Counts: whole numbers from a minimum, one rule for the commands and the aggregates."""

from __future__ import annotations

import attrs
import pytest

from seedwork.core.schema import SchemaBuilder
from shop.domain.counts import QUANTITY, STOCK_QUANTITY, Count
from shop.domain.errors import InvalidValue


@pytest.mark.parametrize("quantity", [0, -3, 1.0, True, "2", None])
def test_a_quantity_is_a_whole_number_above_zero(quantity: object) -> None:
    with pytest.raises(InvalidValue) as raised:
        QUANTITY.check("quantity", quantity)
    assert raised.value.field == "quantity"
    assert QUANTITY.check("quantity", 3) == 3


def test_a_stock_quantity_may_be_zero() -> None:
    assert STOCK_QUANTITY.check("quantity", 0) == 0
    with pytest.raises(InvalidValue, match="whole number >= 0"):
        STOCK_QUANTITY.check("quantity", -1)


def test_a_count_validates_a_field_and_says_its_schema() -> None:
    @attrs.frozen
    class Line:
        items: int = attrs.field(validator=Count(2))

    with pytest.raises(InvalidValue, match=r"The items is a whole number >= 2\."):
        Line(1)
    builder = SchemaBuilder()
    schema = builder.components[builder.component(Line)]["properties"]["items"]
    assert schema == {"type": "integer", "minimum": 2}
