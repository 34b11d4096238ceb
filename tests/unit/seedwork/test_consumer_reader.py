"""Reading raw Redis messages into command envelopes, and the names of channels and streams."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedwork.core.errors import InvalidPayload, MessageError
from seedwork.core.messages import Command, Envelope, MessageRegistry
from seedwork.core.serialization import Serializer
from seedwork.redis.channels import Channels, camel_case, snake_case
from seedwork.redis.reader import CommandReader, NotAccepted


@attrs.frozen(kw_only=True)
class ChangeLevel(Command):
    level_id: str
    level: int


@attrs.frozen(kw_only=True)
class ResetLevel(Command):
    level_id: str


CHANNELS = Channels("app")
READER = CommandReader(
    Serializer(MessageRegistry().add(ChangeLevel, ResetLevel)), CHANNELS, ["ChangeLevel"]
)
CHANNEL = "app.commands.change_level"


def test_names_follow_the_prefix():
    assert CHANNELS.event_channel("BatchQuantityChanged") == "app.events.batch_quantity_changed"
    assert CHANNELS.command_channel("AddBatch") == "app.commands.add_batch"
    assert (CHANNELS.events_stream, CHANNELS.commands_stream) == ("app.events", "app.commands")
    assert CHANNELS.dead_letters_stream == "app.dead_letters"
    assert CHANNELS.command_name("app.commands.ship_order") == "ShipOrder"
    assert CHANNELS.command_name("other.commands.ship_order") is None
    assert camel_case(snake_case("OutOfStock")) == "OutOfStock"


def test_a_full_envelope_keeps_its_ids_and_is_deduplicated():
    envelope = READER.read(
        '{"message_id": "m1", "correlation_id": "c1", "type": "ChangeLevel",'
        ' "payload": {"level_id": "l", "level": 2}}',
        "app.commands",
    )
    assert envelope.message == ChangeLevel(level_id="l", level=2)
    assert (envelope.message_id, envelope.correlation_id, envelope.dedupe) == ("m1", "c1", True)


def test_the_channel_names_the_type_of_an_untyped_envelope_or_a_bare_payload():
    untyped = READER.read('{"payload": {"level_id": "l", "level": 1}}', CHANNEL)
    bare = READER.read('{"level_id": "l", "level": 1}', CHANNEL)
    assert untyped.message == bare.message == ChangeLevel(level_id="l", level=1)
    assert not bare.dedupe


def test_a_stream_entry_without_message_id_gets_a_stable_one():
    raw = '{"type": "ChangeLevel", "payload": {"level_id": "l", "level": 1}}'
    first = READER.read(raw, "app.commands", stream_entry="1-0")
    again = READER.read(raw, "app.commands", stream_entry="1-0")
    other = READER.read(raw, "app.commands", stream_entry="2-0")
    assert first.message_id == again.message_id != other.message_id
    assert first.dedupe and first.correlation_id == first.message_id


@pytest.mark.parametrize(
    ("raw", "channel", "error"),
    [
        ("nope", CHANNEL, MessageError),
        ("[]", CHANNEL, MessageError),
        ('{"level_id": "l", "level": 1}', "app.commands", MessageError),
        ('{"level_id": "l"}', "app.commands.reset_level", NotAccepted),
        ('{"type": "ResetLevel", "payload": {}}', CHANNEL, MessageError),
        ('{"level_id": "l", "level": "high"}', CHANNEL, InvalidPayload),
    ],
)
def test_what_cannot_be_read_says_why(raw: str, channel: str, error: type[Exception]):
    with pytest.raises(error):
        READER.read(raw, channel)


@pytest.mark.parametrize(
    "raw",
    [
        '{"level_id": "l", "level": 1, "colour": "red"}',
        '{"type": "ChangeLevel", "payload": {"level_id": "l", "level": 1, "colour": "red"}}',
    ],
)
def test_an_unknown_payload_field_is_named(raw: str):
    with pytest.raises(InvalidPayload) as caught:
        READER.read(raw, CHANNEL)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("colour", "is not a known field")
    ]


@pytest.mark.parametrize(
    "raw",
    [
        '{"level_id": "l", "level": -1, "level": 5}',
        '{"type": "ChangeLevel", "payload": {"level_id": "l", "level": 1}, "type": "ChangeLevel"}',
    ],
)
def test_a_duplicated_key_makes_a_message_unreadable(raw: str):
    with pytest.raises(MessageError, match="duplicated key"):
        READER.read(raw, CHANNEL)


def test_envelope_keys_are_the_envelopes_business():
    raw = '{"type": "ChangeLevel", "actor": null, "payload": {"level_id": "l", "level": 1}}'
    assert READER.read(raw, CHANNEL).message == ChangeLevel(level_id="l", level=1)


def _json_texts() -> st.SearchStrategy[bytes]:
    """JSON documents (any text, lone surrogates included as escapes) as bytes."""
    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    documents = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    )
    envelopes = st.fixed_dictionaries(
        {"payload": documents},
        optional={"type": st.sampled_from(["ChangeLevel", "ResetLevel"]) | st.text(max_size=5),
                  "message_id": st.text(max_size=40), "correlation_id": documents},
    )  # fmt: skip
    return (documents | envelopes).map(lambda doc: json.dumps(doc).encode())


@given(
    raw=st.binary(max_size=200) | _json_texts(),
    channel=st.binary(max_size=30).map(lambda suffix: b"app.commands." + suffix)
    | st.sampled_from([CHANNEL, "app.commands", b"app.commands.change_level"]),
)
def test_any_bytes_on_any_channel_are_read_or_refused_and_never_raise(raw: Any, channel: Any):
    decoded = READER.decode(raw, channel, stream_entry="1-0")
    assert isinstance(decoded, Envelope | MessageError)
    if isinstance(decoded, Envelope):  # what is read can be written anywhere
        texts = [decoded.message_id, decoded.correlation_id, *attrs.astuple(decoded.message)]
        for text in texts:
            if isinstance(text, str):
                assert "\x00" not in text
                text.encode("utf-8")
    else:
        str(decoded).encode("utf-8")  # and the reason too
