"""Property: whatever bytes reach either listener, each bad message is one dead letter, kept
byte for byte, and the consumer goes on applying valid commands."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis

from seedwork.redis.channels import Channels
from tests.integration.redis.intake import Consuming, add_batch, wired_shop
from tests.waiting import eventually

LARGEST = 64 * 1024


class Bad:
    """One message that cannot be applied: sent on the stream (``fields``) or on a channel."""

    def __init__(
        self,
        fields: dict[bytes, bytes] | None = None,
        channel_suffix: bytes = b"",
        data: bytes = b"",
    ) -> None:
        self.fields = fields
        self.channel_suffix = channel_suffix
        self.data = data

    def __repr__(self) -> str:
        if self.fields is not None:
            shown = {key[:80]: value[:80] for key, value in self.fields.items()}
            return f"Bad(fields={shown!r}, message bytes={len(self.fields.get(b'message', b''))})"
        return (
            f"Bad(suffix={self.channel_suffix!r}, data={self.data[:80]!r}, {len(self.data)} bytes)"
        )

    def send(self, redis: Redis, channels: Channels) -> None:
        if self.fields is not None:
            redis.xadd(channels.commands_stream, self.fields)  # type: ignore[arg-type]
        else:
            redis.publish(self.channel(channels), self.data)

    def channel(self, channels: Channels) -> bytes:
        return f"{channels.prefix}.commands.".encode() + self.channel_suffix

    def kept_as(self, channels: Channels) -> tuple[bytes, bytes]:
        """The dead letter's message and channel fields."""
        if self.fields is None:
            return self.data, self.channel(channels)
        stream = channels.commands_stream.encode()
        return self.fields.get(b"message", repr(self.fields).encode()), stream


def unreadable_text() -> st.SearchStrategy[str]:
    """Text with at least one lone surrogate or NUL somewhere."""
    poison = st.sampled_from(["\x00"]) | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    return st.tuples(st.text(max_size=8), poison, st.text(max_size=8)).map("".join)


def spoiled_add_batch() -> st.SearchStrategy[bytes]:
    """An ``AddBatch`` envelope with one bad ingredient (so it is never valid)."""
    good = {"reference": "r", "sku": "SKU-1", "quantity": 1, "eta": None}
    spoil = st.one_of(
        st.tuples(st.sampled_from(["reference", "sku", "eta"]), unreadable_text()),
        st.tuples(
            st.just("quantity"),
            st.integers(min_value=2**31) | st.integers(max_value=0) | unreadable_text(),
        ),
        st.tuples(st.sampled_from(["message_id", "correlation_id"]), unreadable_text()),
        st.tuples(unreadable_text(), st.integers()),
    )

    def build(spoiled: tuple[str, Any]) -> bytes:
        field, value = spoiled
        if field in ("message_id", "correlation_id"):
            return json.dumps({"type": "AddBatch", field: value, "payload": good}).encode()
        return json.dumps({"type": "AddBatch", "payload": {**good, field: value}}).encode()

    return spoil.map(build)


def too_large() -> st.SearchStrategy[bytes]:
    """A valid command padded past 64 KiB."""
    return st.integers(LARGEST + 1, LARGEST + 512).map(
        lambda size: add_batch("too-large").encode().ljust(size)
    )


def bad_messages() -> st.SearchStrategy[Bad]:
    # At most 50 bytes: too short for any valid command (they also need a type on the stream).
    short = st.binary(max_size=50)
    stream_entries = st.dictionaries(st.binary(max_size=6), short, min_size=1, max_size=3)
    on_stream = st.one_of(
        stream_entries.map(lambda fields: Bad(fields=fields)),
        (spoiled_add_batch() | too_large()).map(lambda data: Bad(fields={b"message": data})),
    )
    on_channel = st.one_of(
        st.builds(Bad, channel_suffix=st.binary(max_size=12), data=short),
        (spoiled_add_batch() | too_large()).map(
            lambda data: Bad(channel_suffix=b"add_batch", data=data)
        ),
    )
    return on_stream | on_channel


@pytest.mark.slow
def test_any_bytes_at_either_listener_are_dead_letters_and_valid_commands_still_apply(
    redis_url: str, channel_prefix: str
):
    redis = Redis.from_url(redis_url)
    channels = Channels(channel_prefix)
    valid = itertools.count()
    with wired_shop(redis_url, channel_prefix) as shop:
        consuming = Consuming(shop).start()
        try:
            consuming.listening(redis)

            @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
            @given(bad=st.lists(bad_messages(), min_size=1, max_size=4), on_stream=st.booleans())
            def check(bad: list[Bad], on_stream: bool) -> None:
                seen = redis.xlen(channels.dead_letters_stream)
                for message in bad:
                    message.send(redis, channels)
                reference = f"valid-{next(valid)}"
                if on_stream:
                    redis.xadd(channels.commands_stream, {"message": add_batch(reference)})
                else:
                    redis.publish(channels.command_channel("AddBatch"), add_batch(reference))

                eventually(lambda: consuming.batch(reference), timeout=15)
                eventually(lambda: redis.xlen(channels.dead_letters_stream) >= seen + len(bad))
                letters = [fields for _, fields in redis.xrange(channels.dead_letters_stream)]
                assert len(letters) == seen + len(bad)
                kept = Counter(
                    (fields[b"message"], fields[b"channel"]) for fields in letters[seen:]
                )
                assert kept == Counter(message.kept_as(channels) for message in bad)
                assert all(fields[b"error"] for fields in letters[seen:])
                examples.append(len(bad))

            examples: list[int] = []
            check()
            assert len(examples) >= 50
            assert consuming.thread.is_alive() and consuming.error is None
        finally:
            consuming.close()
            keys = list(redis.scan_iter(match=f"{channel_prefix}.*"))
            if keys:
                redis.delete(*keys)
            redis.close()
