"""Any bytes at all on the way in end as a dead letter with a reason, never a stopped consumer.

Each test is one reproduction of issue 10 §2, run through the shop's own wiring
(``consume_commands``: both listeners, the lanes, the consumer) on a real PostgreSQL and Redis.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from redis import Redis

from seedwork.redis.channels import Channels
from seedwork.redis.dead_letters import DeadLetterStream
from shop.bootstrap import Shop
from shop.domain import commands
from shop.entrypoints.cli.main import main
from shop.entrypoints.workers import build_relay
from shop.views.queries import SqlReadModels
from tests.integration.redis.intake import Consuming, add_batch, dead_letters, wired_shop
from tests.integration.redis.private_server import PrivateRedis
from tests.integration.redis.world import stream_messages
from tests.waiting import eventually


@pytest.fixture
def shop(redis_url: str, channel_prefix: str) -> Iterator[Shop]:
    with wired_shop(redis_url, channel_prefix) as shop:
        yield shop


@pytest.fixture
def consuming(shop: Shop, redis: Redis) -> Iterator[Consuming]:
    consuming = Consuming(shop)
    yield consuming
    consuming.close()


def settled(redis: Redis, consuming: Consuming) -> bool:
    """Nothing pending or unread in the commands stream."""
    stream = consuming.channels.commands_stream
    groups = redis.xinfo_groups(stream)
    return bool(groups) and all(g["pending"] == 0 and g["lag"] == 0 for g in groups)


def test_a_lone_surrogate_in_a_stream_entry_is_a_dead_letter_and_costs_no_innocent_entry(
    consuming: Consuming, redis: Redis
):
    stream = consuming.channels.commands_stream
    poison = add_batch("\ud800")
    assert "\\ud800" in poison  # the JSON escape, valid UTF-8 bytes on the wire
    redis.xadd(stream, {"message": add_batch("before")})
    redis.xadd(stream, {"message": poison})
    innocent = [f"b{n}" for n in range(15)]
    for reference in innocent:
        redis.xadd(stream, {"message": add_batch(reference)})
    consuming.start()

    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 1, timeout=15)
    eventually(lambda: all(consuming.batch(r) for r in ["before", *innocent]), timeout=15)
    [letter] = dead_letters(redis, consuming.channels)
    assert letter[b"message"] == poison.encode()
    assert letter[b"channel"] == stream.encode()
    assert "reference" in letter[b"error"].decode()
    # The consumer keeps going: later commands apply, and nothing is left pending.
    redis.xadd(stream, {"message": add_batch("after")})
    eventually(lambda: consuming.batch("after"), timeout=15)
    eventually(lambda: settled(redis, consuming))
    assert consuming.thread.is_alive() and consuming.error is None


def test_a_lone_surrogate_on_the_cancel_order_channel_is_a_dead_letter_and_the_listener_lives(
    consuming: Consuming, redis: Redis
):
    consuming.start().listening(redis)
    channel = consuming.channels.command_channel("CancelOrder")
    poison = json.dumps({"order_id": "\ud800", "reason": "no longer needed"})
    redis.publish(channel, poison)
    redis.publish(channel, json.dumps({"payload": {"order_id": "o1", "reason": "\ud800"}}))

    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 2, timeout=15)
    first, second = dead_letters(redis, consuming.channels)
    assert first[b"message"] == poison.encode() and first[b"channel"] == channel.encode()
    assert "order_id" in first[b"error"].decode()
    assert "reason" in second[b"error"].decode()
    redis.publish(consuming.channels.command_channel("AddBatch"), add_batch("after"))
    eventually(lambda: consuming.batch("after"), timeout=15)


@pytest.mark.parametrize("suffix", [b"add_batch\xff", b"\xff", b"\xffadd_batch", b"\x00\xff\n"])
def test_a_message_on_a_channel_whose_name_has_byte_0xff_is_a_dead_letter(
    consuming: Consuming, redis: Redis, suffix: bytes
):
    consuming.start().listening(redis)
    channel = f"{consuming.channels.prefix}.commands.".encode() + suffix
    redis.publish(channel, add_batch("odd"))

    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 1, timeout=15)
    [letter] = dead_letters(redis, consuming.channels)
    assert letter[b"channel"] == channel  # the raw name, byte for byte
    assert letter[b"message"] == add_batch("odd").encode()
    assert "channel" in letter[b"error"].decode()
    assert consuming.batch("odd") is None
    redis.publish(consuming.channels.command_channel("AddBatch"), add_batch("after"))
    eventually(lambda: consuming.batch("after"), timeout=15)


@pytest.mark.parametrize("suffix", ["addBatch", "add_batch_", "_add_batch", "ADD_BATCH", ""])
def test_a_message_on_a_channel_with_an_odd_suffix_is_a_dead_letter(
    consuming: Consuming, redis: Redis, suffix: str
):
    consuming.start().listening(redis)
    channel = f"{consuming.channels.prefix}.commands.{suffix}"
    redis.publish(channel, add_batch("odd"))

    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 1, timeout=15)
    [letter] = dead_letters(redis, consuming.channels)
    assert letter[b"channel"] == channel.encode()
    assert "channel" in letter[b"error"].decode()
    assert consuming.batch("odd") is None


def test_a_stream_entry_with_a_non_utf8_field_name_and_no_message_is_a_dead_letter(
    consuming: Consuming, redis: Redis
):
    stream = consuming.channels.commands_stream
    redis.xadd(stream, {b"\xff": b"x"})
    redis.xadd(stream, {"message": add_batch("after")})
    consuming.start()

    eventually(lambda: consuming.batch("after"), timeout=15)
    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 1)
    [letter] = dead_letters(redis, consuming.channels)
    assert "no 'message' field" in letter[b"error"].decode()
    assert b"\\xff" in letter[b"message"]  # the fields, shown faithfully
    eventually(lambda: settled(redis, consuming))
    assert consuming.thread.is_alive() and consuming.error is None


def padded(text: str, size: int) -> str:
    """Valid JSON text of exactly ``size`` bytes (trailing blanks)."""
    assert len(text.encode()) <= size
    return text + " " * (size - len(text.encode()))


def test_a_message_over_64_kib_is_a_dead_letter_before_it_is_read(
    consuming: Consuming, redis: Redis
):
    consuming.start().listening(redis)
    big = padded(add_batch("big-stream"), 64 * 1024 + 1)
    big_channel = padded(add_batch("big-channel"), 64 * 1024 + 1)
    redis.xadd(consuming.channels.commands_stream, {"message": big})
    redis.publish(consuming.channels.command_channel("AddBatch"), big_channel)
    redis.xadd(
        consuming.channels.commands_stream, {"message": padded(add_batch("fits"), 64 * 1024)}
    )

    eventually(lambda: consuming.batch("fits"), timeout=15)
    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 2)
    letters = dead_letters(redis, consuming.channels)
    assert {letter[b"message"] for letter in letters} == {big.encode(), big_channel.encode()}
    for letter in letters:
        assert letter[b"error"].decode().startswith("MessageTooLarge: 65537 bytes")
    assert consuming.batch("big-stream") is None and consuming.batch("big-channel") is None


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (add_batch("q", quantity=2**31), "quantity"),
        (add_batch("nul\x00"), "reference"),
        (add_batch("id", message_id="x" * 37), "message_id"),
        (add_batch("corr", correlation_id="\x00"), "correlation_id"),
        ('{"type": "AddBatch", "type": "AddBatch", "payload": {}}', "type"),
        (
            '{"type": "AddBatch", "payload": {"reference": "nan", "sku": "SKU-1", '
            '"quantity": NaN}}',
            "JSON",
        ),
    ],
)
def test_redis_input_gets_the_checks_http_input_gets(
    consuming: Consuming, redis: Redis, message: str, field: str
):
    consuming.start()
    redis.xadd(consuming.channels.commands_stream, {"message": message})
    eventually(lambda: len(dead_letters(redis, consuming.channels)) == 1, timeout=15)
    [letter] = dead_letters(redis, consuming.channels)
    error = letter[b"error"].decode()
    assert field in error and "SQL" not in error, error
    assert letter[b"message"] == message.encode()


def test_a_listener_that_dies_is_restarted(consuming: Consuming, redis: Redis):
    """Someone deletes the commands stream (and its group): reading fails, the listener restarts."""
    consuming.start().listening(redis)
    stream = consuming.channels.commands_stream
    redis.xadd(stream, {"message": add_batch("first")})
    eventually(lambda: consuming.batch("first"), timeout=15)
    redis.delete(stream)
    eventually(lambda: redis.exists(stream), timeout=15)  # the group was made again
    redis.xadd(stream, {"message": add_batch("second")})
    eventually(lambda: consuming.batch("second"), timeout=15)
    redis.publish(consuming.channels.command_channel("AddBatch"), add_batch("third"))
    eventually(lambda: consuming.batch("third"), timeout=15)
    assert consuming.thread.is_alive() and consuming.error is None


def test_the_events_and_dead_letter_streams_keep_about_the_configured_length(
    private_redis: PrivateRedis, channel_prefix: str
):
    """``SHOP_STREAM_MAXLEN`` (20 here): approximate, so within one stream node (10 here)."""
    client = private_redis.client()
    client.config_set("stream-node-max-entries", 10)
    channels = Channels(channel_prefix)
    with wired_shop(private_redis.url, channel_prefix, stream_maxlen=20) as shop:
        for n in range(60):
            shop.bus.handle(commands.AddBatch(reference=f"b{n}", sku="SKU-1", quantity=1))
        assert build_relay(shop).drain() > 60  # ProductAdded, 60 BatchAdded and more
        assert 20 <= client.xlen(channels.events_stream) < 30
        assert stream_messages(client, channels.events_stream)[-1]["payload"]["reference"] == "b59"

        consuming = Consuming(shop).start()
        try:
            for n in range(60):
                client.xadd(channels.commands_stream, {"message": f"not json {n}"})
            eventually(lambda: settled(client, consuming), timeout=15)
            assert 20 <= client.xlen(channels.dead_letters_stream) < 30
            [(_, newest)] = client.xrevrange(channels.dead_letters_stream, count=1)
            assert newest[b"message"] == b"not json 59"
            # The commands stream loses acknowledged entries only, down to 20 (checked every 5 s).
            eventually(lambda: client.xlen(channels.commands_stream) == 20, timeout=15)
        finally:
            consuming.close()
    client.close()


def test_a_dead_letter_is_listed_and_replayed_from_the_bytes_as_they_came(
    shop: Shop, redis: Redis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    channels = Channels(shop.settings.channel_prefix)
    stream = DeadLetterStream(redis, channels.dead_letters_stream)
    latin1 = (
        b'{"type": "AddBatch", "payload": {"reference": "caf\xe9", "sku": "SKU-1", "quantity": 1}}'
    )
    channel = channels.command_channel("AddBatch")
    mangled = stream.add(latin1, "MessageError: not valid UTF-8 (byte 48)", channel)
    fine = stream.add(add_batch("fine").encode(), "BatchNotFound: …", channel.encode())
    monkeypatch.setenv("DATABASE_URL", shop.settings.database_url)
    monkeypatch.setenv("REDIS_URL", shop.settings.redis_url or "")
    monkeypatch.setenv("SHOP_CHANNEL_PREFIX", channels.prefix)
    views = SqlReadModels(shop.engine)

    assert main(["dead-letters", "replay", mangled]) == 1  # not read as "caf\ufffd"
    assert "not valid UTF-8" in capsys.readouterr().err
    assert views.batch("caf\ufffd") is None and views.batch("caf\\xe9") is None
    assert main(["dead-letters", "replay", fine]) == 0
    assert views.batch("fine") is not None
    assert main(["dead-letters", "list"]) == 0
    assert '"reference": "caf\\xe9"' in capsys.readouterr().out
    assert [letter.raw for letter in stream.list()] == [latin1]
