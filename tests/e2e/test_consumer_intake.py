"""``shop consumer`` as a process: a poisoned stream does not stop it; a listener it cannot keep
running makes it exit non-zero instead of living on deaf."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from redis import Redis

from seedwork.redis.channels import Channels
from shop.bootstrap import bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.domain.money import Money
from shop.migrations import upgrade
from shop.views.queries import SqlReadModels
from tests.e2e.server import ShopProcess
from tests.waiting import eventually


@pytest.fixture
def views(database_url: str) -> Iterator[SqlReadModels]:
    """A migrated database with the product SKU-1, and its read models."""
    shop = bootstrap(Settings(database_url=database_url))
    upgrade(shop.engine)
    shop.bus.handle(commands.AddProduct(sku="SKU-1", name="A thing", price=Money.of(100, "EUR")))
    yield SqlReadModels(shop.engine)
    shop.close()


def add_batch(reference: str) -> str:
    payload = {"reference": reference, "sku": "SKU-1", "quantity": 3}
    return json.dumps({"type": "AddBatch", "payload": payload})


def test_a_lone_surrogate_and_a_nameless_field_on_the_stream_do_not_stop_shop_consumer(
    start_shop: Callable[..., ShopProcess],
    views: SqlReadModels,
    redis: Redis,
    channel_prefix: str,
):
    stream = Channels(channel_prefix).commands_stream
    redis.xadd(stream, {"message": add_batch("\ud800")})
    redis.xadd(stream, {b"\xff": b"x"})
    innocent = [f"b{n}" for n in range(15)]
    for reference in innocent:
        redis.xadd(stream, {"message": add_batch(reference)})
    consumer = start_shop("consumer")

    def all_applied() -> bool:
        assert consumer.process is not None and consumer.process.poll() is None, consumer.log()
        return all(views.batch(r) for r in innocent)

    eventually(all_applied, timeout=30, every=0.1, explain=consumer.log)
    assert redis.xlen(Channels(channel_prefix).dead_letters_stream) == 2
    assert consumer.stop() == 0
    assert "Traceback" not in consumer.log()


@pytest.mark.parametrize("command", [["consumer"], ["run", "--port", "0"]])
def test_the_process_exits_non_zero_when_a_listener_keeps_dying(
    start_shop: Callable[..., ShopProcess], redis: Redis, channel_prefix: str, command: list[str]
):
    redis.set(Channels(channel_prefix).commands_stream, "not a stream")  # every XGROUP fails
    consumer = start_shop(*command)
    assert consumer.process is not None
    consumer.process.wait(60)
    assert consumer.process.returncode == 1, consumer.log()
    consumer.wait_for_log("worker keeps dying, giving up name=consumer-stream")
    assert "WRONGTYPE" in consumer.log()
