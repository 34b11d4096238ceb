"""A shop consuming commands as ``shop consumer`` does, on a real PostgreSQL and Redis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from redis import Redis

from seedwork.core.messages import new_id
from seedwork.redis.channels import Channels
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.domain.money import Money
from shop.entrypoints.workers import consume_commands
from shop.migrations import upgrade
from shop.views.queries import SqlReadModels
from tests import services
from tests.waiting import eventually

SKU = "SKU-1"


@contextmanager
def wired_shop(redis_url: str, prefix: str, **settings: Any) -> Iterator[Shop]:
    """A migrated shop on its own database, with the product ``SKU-1``."""
    with services.fresh_postgres_database() as url:
        shop = bootstrap(
            Settings(database_url=url, redis_url=redis_url, channel_prefix=prefix, **settings)
        )
        try:
            upgrade(shop.engine)
            shop.bus.handle(
                commands.AddProduct(sku=SKU, name="A thing", price=Money.of(1250, "EUR"))
            )
            yield shop
        finally:
            shop.close()


class Consuming:
    """``consume_commands`` in a thread of its own, as ``shop consumer`` runs it."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-consumer", daemon=True)
        self.views = SqlReadModels(shop.engine)
        self.channels = Channels(shop.settings.channel_prefix)

    def _run(self) -> None:
        try:
            consume_commands(self.shop, self.stop, workers=4)
        except BaseException as error:
            self.error = error
            raise

    def start(self) -> Consuming:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(40)
        assert not self.thread.is_alive(), "the consumer did not stop"

    def batch(self, reference: str) -> Any:
        return self.views.batch(reference)

    def listening(self, redis: Redis) -> None:
        """Wait until the channel listener hears (a probe command, applied once by its id)."""
        probe = add_batch("probe", message_id=new_id())
        channel = self.channels.command_channel("AddBatch")

        def heard() -> bool:
            redis.publish(channel, probe)
            return self.batch("probe") is not None

        eventually(heard, timeout=15)


def add_batch(reference: str, quantity: int = 5, **envelope: Any) -> str:
    """An ``AddBatch`` envelope as JSON text (``\\ud800`` stays an escape, as JSON allows)."""
    payload = {"reference": reference, "sku": SKU, "quantity": quantity, "eta": None}
    return json.dumps({"type": "AddBatch", "payload": payload, **envelope})


def dead_letters(redis: Redis, channels: Channels) -> list[dict[bytes, bytes]]:
    """The dead-letter stream's entries, fields as stored."""
    return [fields for _, fields in redis.xrange(channels.dead_letters_stream)]
