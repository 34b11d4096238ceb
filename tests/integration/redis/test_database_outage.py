"""A database outage during a stream of Redis commands: every command applied once, none dead.

The consumer runs as ``shop consumer`` does, against a private PostgreSQL cluster that the test
stops for a few seconds while commands keep coming in on the stream and on the channels.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
from redis import Redis
from sqlalchemy import func, select

from seedwork.core.messages import new_id
from seedwork.redis.channels import Channels
from shop.adapters import tables as db
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.domain.money import Money
from shop.entrypoints.workers import run_consumer_loop
from shop.migrations import upgrade
from tests.integration.private_postgres import PrivatePostgres
from tests.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        yield server.init().start()
    finally:
        server.destroy()


def add_batch(reference: str, quantity: int) -> str:
    return json.dumps(
        {
            "message_id": new_id(),
            "type": "AddBatch",
            "payload": {"reference": reference, "sku": "SKU-1", "quantity": quantity, "eta": None},
        }
    )


def send(redis: Redis, channels: Channels, numbers: range) -> None:
    """Even numbers on the stream, odd ones on the command channel, a few ms apart."""
    for n in numbers:
        text = add_batch(f"B-{n}", n + 1)
        if n % 2:
            redis.publish(channels.command_channel("AddBatch"), text)
        else:
            redis.xadd(channels.commands_stream, {"message": text})
        time.sleep(0.02)


def applied(shop: Shop) -> tuple[int, int, int]:
    """(batches, BatchAdded events in the log, distinct batch references in the log)."""
    outbox = db.seedwork_tables.outbox
    with shop.engine.connect() as connection:
        batches = connection.execute(select(func.count()).select_from(db.batches)).scalar_one()
        added = connection.execute(
            select(outbox.c.envelope).where(outbox.c.type == "BatchAdded")
        ).scalars()
        references = [json.loads(text)["payload"]["reference"] for text in added]
    return batches, len(references), len(set(references))


def test_commands_sent_while_the_database_is_down_are_applied_once_and_none_is_dead(
    private_postgres: PrivatePostgres,
    redis: Redis,
    redis_url: str,
    channels: Channels,
    channel_prefix: str,
):
    settings = Settings(
        database_url=private_postgres.url, redis_url=redis_url, channel_prefix=channel_prefix
    )
    shop = bootstrap(settings)
    stop = threading.Event()
    consumer = threading.Thread(target=run_consumer_loop, args=(shop, stop), daemon=True)
    try:
        upgrade(shop.engine)
        shop.bus.handle(commands.AddProduct(sku="SKU-1", name="A", price=Money.of(100, "EUR")))
        consumer.start()
        eventually(lambda: redis.pubsub_numpat() >= 1 and _group_exists(redis, channels))
        send(redis, channels, range(0, 30))
        private_postgres.stop()
        outage = time.monotonic()
        send(redis, channels, range(30, 130))  # 100 commands over ~2 s of outage
        time.sleep(max(0.0, 4.0 - (time.monotonic() - outage)))
        private_postgres.start()
        send(redis, channels, range(130, 160))
        eventually(lambda: applied(shop)[0] == 160, timeout=60)
        eventually(
            lambda: redis.xpending(channels.commands_stream, "shop")["pending"] == 0, timeout=30
        )
        assert applied(shop) == (160, 160, 160)
        assert redis.xlen(channels.dead_letters_stream) == 0
    finally:
        stop.set()
        consumer.join(30)
        shop.close()
    assert not consumer.is_alive()


def _group_exists(redis: Redis, channels: Channels) -> bool:
    try:
        return bool(redis.xinfo_groups(channels.commands_stream))
    except Exception:  # the stream does not exist yet
        return False
