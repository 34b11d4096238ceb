"""seedwork.core.schema: JSON Schema from attrs classes, never stricter than the strict
converter."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from seedwork.core.errors import InvalidPayload
from seedwork.core.schema import SchemaBuilder, describe
from seedwork.core.structuring import structure
from shop.bootstrap import message_converter
from shop.domain import commands


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Part:
    """A part.

    More words that stay out of the description."""

    name: str


def _positive(_: Any, __: Any, value: int) -> None:
    if value <= 0:
        raise ValueError("must be positive")


@attrs.frozen(kw_only=True)
class Sample:
    text: str
    count: int = attrs.field(validator=describe(_positive, {"minimum": 1}))
    flag: bool
    day: date
    moment: datetime
    maybe: str | None
    parts: tuple[Part, ...]
    part: Part | None
    colour: Colour
    size: Literal["s", "m"]
    extra: dict[str, int]
    anything: Any = None
    tagged: str = attrs.field(default="x", metadata={"json_schema": {"maxLength": 3}})
    internal: int = attrs.field(default=0, init=False)


def test_each_type_hint_has_its_json_schema():
    builder = SchemaBuilder("#/defs/")
    assert builder.schema(Sample) == {"$ref": "#/defs/Sample"}
    sample = builder.components["Sample"]
    assert sample["required"] == [
        "text", "count", "flag", "day", "moment", "maybe", "parts", "part", "colour", "size",
        "extra",
    ]  # fmt: skip
    assert sample["additionalProperties"] is False
    assert sample["properties"] == {
        "text": {"type": "string"},
        "count": {"type": "integer", "minimum": 1},
        "flag": {"type": "boolean"},
        "day": {"type": "string", "format": "date"},
        "moment": {"type": "string", "format": "date-time"},
        "maybe": {"type": ["string", "null"]},
        "parts": {"type": "array", "items": {"$ref": "#/defs/Part"}},
        "part": {"anyOf": [{"$ref": "#/defs/Part"}, {"type": "null"}]},
        "colour": {"type": "string", "enum": ["red", "blue"]},
        "size": {"enum": ["s", "m"]},
        "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
        "anything": {},
        "tagged": {"type": "string", "maxLength": 3},
    }
    assert builder.components["Part"]["description"] == "A part."
    Draft202012Validator.check_schema({"$defs": builder.components, **sample})
    Draft7Validator.check_schema(sample)


def test_a_described_validator_still_validates():
    with pytest.raises(ValueError, match="positive"):
        attrs.evolve(
            Sample(text="t", count=1, flag=True, day=date(2026, 1, 1), moment=datetime.now(),
                   maybe=None, parts=(), part=None, colour=Colour.RED, size="s", extra={}),
            count=0,
        )  # fmt: skip


def test_a_type_without_json_form_or_two_classes_of_one_name_are_refused():
    @attrs.frozen
    class Odd:
        value: complex

    with pytest.raises(TypeError, match="complex"):
        SchemaBuilder().schema(Odd)

    builder = SchemaBuilder()
    builder.component(Part)
    other = attrs.make_class("Part", {"x": attrs.field()})
    with pytest.raises(ValueError, match="Part"):
        builder.component(other)


BODIES: dict[type, dict[str, Any]] = {
    commands.AddProduct: {"sku": "RED-1", "name": "Chair",
                          "price": {"amount": 1, "currency": "EUR"}},
    commands.AddBatch: {"reference": "b-1", "sku": "RED-1", "quantity": 2, "eta": "2026-12-01"},
    commands.RegisterCustomer: {"customer_id": "c", "name": "Ann", "email": "a@b.co",
                                "tier": "gold"},
    commands.SetShippingAddress: {"order_id": "o", "street": "1 Main", "city": "Lyon",
                                  "postcode": "69001", "country": "FR"},
    commands.CancelOrder: {"order_id": "o", "reason": "late\nvery"},
}  # fmt: skip

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(BODIES)),
    changes=st.dictionaries(
        st.sampled_from(["sku", "name", "price", "quantity", "eta", "tier", "reason", "country",
                         "email", "order_id", "colour", "amount"]),
        JSON_VALUES | st.sampled_from(["", "RED-22", "2027-01-05", "bronze", "DE", "é"]),
        max_size=3,
    ),
    dropped=st.sets(st.sampled_from(["sku", "tier", "eta", "name", "price"]), max_size=2),
)  # fmt: skip
def test_what_the_strict_converter_accepts_the_schema_accepts(
    kind: type, changes: dict[str, Any], dropped: set[str]
):
    """The document is never stricter than the server: every accepted payload validates."""
    payload = {k: v for k, v in {**BODIES[kind], **changes}.items() if k not in dropped}
    builder = SchemaBuilder("#/$defs/")
    validator = Draft202012Validator(
        {**builder.schema(kind), "$defs": builder.components},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    try:
        structure(message_converter(), kind, payload)
    except InvalidPayload:
        return
    assert validator.is_valid(payload), list(validator.iter_errors(payload))


@pytest.mark.parametrize("kind", list(BODIES))
def test_the_schema_refuses_unknown_fields_as_the_converter_does(kind: type):
    builder = SchemaBuilder("#/$defs/")
    validator = Draft202012Validator({**builder.schema(kind), "$defs": builder.components})
    assert validator.is_valid(BODIES[kind])
    payload = {**BODIES[kind], "colour": "red"}
    assert not validator.is_valid(payload)
    with pytest.raises(InvalidPayload):
        structure(message_converter(), kind, payload)
