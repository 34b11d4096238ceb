"""The one JSON reader of both doors (HTTP bodies and Redis messages)."""

from __future__ import annotations

import pytest

from seedwork.core.errors import MessageError
from seedwork.core.serialization import parse_json


def test_json_text_becomes_values():
    assert parse_json(b'{"a": {"a": [1, "x", null]}, "b": 1.5}') == {
        "a": {"a": [1, "x", None]},
        "b": 1.5,
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": 1, "a": 2}', "duplicated key 'a'"),
        ('[{"b": 1, "c": {"d": 1, "d": 1}}]', "duplicated key 'd'"),
        ("NaN", "NaN is not JSON"),
        ('{"a": -Infinity}', "-Infinity is not JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff", "not valid JSON"),
        ("{", "not valid JSON"),
    ],
)
def test_what_is_not_json_says_why(text: str | bytes, reason: str):
    with pytest.raises(MessageError, match="not valid JSON") as caught:
        parse_json(text)
    assert reason in str(caught.value)
