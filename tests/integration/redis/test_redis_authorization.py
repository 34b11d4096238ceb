"""Who may do what over Redis (CONTRACT §3, §4): the shop's Redis role, and Redis's own ACL users.

The ACL users are docker-compose's own (their rules read from docker-compose.yml, the prefix
``shop`` replaced by this test's), applied to a private redis-server.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from redis import Redis
from redis.exceptions import NoPermissionError

from seedwork.redis.channels import Channels
from shop.auth_config import AuthSettings
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.domain.money import Money
from shop.domain.visa import Role
from shop.entrypoints.workers import start_workers
from shop.migrations import upgrade
from shop.views.queries import SqlReadModels
from tests import auth, services
from tests.integration.redis.private_server import PrivateRedis
from tests.integration.redis.world import stream_messages
from tests.waiting import eventually

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}

WiredShop = Callable[..., Shop]


@pytest.fixture
def running_shop(channel_prefix: str) -> Iterator[WiredShop]:
    """Wire a migrated shop on a Redis URL, as ``shop run`` does, with its workers started."""
    started: list[tuple[Shop, threading.Event, list[threading.Thread]]] = []
    with services.fresh_postgres_database() as database:

        def start(redis_url: str, role: Role = Role.WAREHOUSE) -> Shop:
            settings = Settings(
                database_url=database,
                redis_url=redis_url,
                channel_prefix=channel_prefix,
                auth=AuthSettings(secret=auth.SECRET, redis_role=role),
            )
            shop = bootstrap(settings)
            upgrade(shop.engine)
            stop = threading.Event()
            started.append((shop, stop, start_workers(shop, stop)))
            return shop

        yield start
        for shop, stop, threads in started:
            stop.set()
            for thread in threads:
                thread.join(10)
            shop.close()


def confirmed_order(shop: Shop) -> str:
    """A product with stock, a customer and a confirmed order of it, made in-process."""
    handle = shop.bus.handle
    handle(commands.AddProduct(sku="SKU-1", name="A thing", price=Money.of(1250, "EUR")))
    handle(commands.AddBatch(reference="b1", sku="SKU-1", quantity=5, eta=None))
    handle(commands.RegisterCustomer(customer_id="c1", name="Ann", email="ann@example.com"))
    handle(commands.CreateOrder(order_id="o1", customer_id="c1"))
    handle(commands.AddOrderLine(order_id="o1", sku="SKU-1", quantity=1))
    handle(commands.SetShippingAddress(order_id="o1", **ADDRESS))
    handle(commands.PlaceOrder(order_id="o1"))
    return "o1"


def order_status(shop: Shop, order_id: str) -> str:
    view = SqlReadModels(shop.engine).order(order_id)
    assert view is not None
    return str(view["status"])


def dead_letter_errors(redis: Redis, channels: Channels) -> list[str]:
    return [fields[b"error"].decode() for _, fields in redis.xrange(channels.dead_letters_stream)]


def test_a_command_the_redis_role_may_not_run_is_a_forbidden_dead_letter(
    running_shop: WiredShop, redis_url: str, channel_prefix: str
) -> None:
    """The attack of issue 14: ``PUBLISH …ship_order`` no longer ships when Redis may not."""
    shop = running_shop(redis_url, Role.CUSTOMER)
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    order_id = confirmed_order(shop)
    assert order_status(shop, order_id) == "confirmed"
    eventually(lambda: redis.pubsub_numpat() >= 1)
    redis.publish(
        channels.command_channel("ShipOrder"),
        json.dumps({"order_id": order_id, "tracking_number": "ATTACKER"}),
    )
    batch = {"reference": "b2", "sku": "SKU-1", "quantity": 3, "eta": None}
    redis.xadd(
        channels.commands_stream, {"message": json.dumps({"type": "AddBatch", "payload": batch})}
    )
    eventually(lambda: len(dead_letter_errors(redis, channels)) == 2)
    errors = sorted(dead_letter_errors(redis, channels))
    assert errors == [
        "Forbidden: The customer role may not change or read the stock.",
        "Forbidden: The customer role may not ship orders.",
    ]
    assert order_status(shop, order_id) == "confirmed"
    stock = SqlReadModels(shop.engine).stock("SKU-1")
    assert stock is not None and [b["reference"] for b in stock["batches"]] == ["b1"]
    redis.close()


def test_commands_from_redis_act_as_the_redis_role_and_their_events_name_it(
    running_shop: WiredShop, redis_url: str, channel_prefix: str
) -> None:
    shop = running_shop(redis_url)  # SHOP_REDIS_ROLE's default: warehouse, which may ship
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    order_id = confirmed_order(shop)
    eventually(lambda: redis.pubsub_numpat() >= 1)
    ship = {"order_id": order_id, "tracking_number": "T-1"}
    claimed = {"actor": "someone-else", "payload": ship}
    redis.publish(channels.command_channel("ShipOrder"), json.dumps(claimed))
    eventually(lambda: order_status(shop, order_id) == "shipped", timeout=10)

    def shipped() -> list[dict[str, object]]:
        found = stream_messages(redis, channels.events_stream)
        return [m for m in found if m["type"] == "OrderShipped"]

    eventually(lambda: len(shipped()) == 1)
    assert shipped()[0]["actor"] == "redis"  # never what the message claims
    redis.close()


def compose_users(prefix: str) -> dict[str, list[str]]:
    """docker-compose's Redis ACL users, by name: their rules for ``prefix`` and defaults set."""
    command: list[str] = yaml.safe_load(COMPOSE.read_text())["services"]["redis"]["command"]
    users: dict[str, list[str]] = {}
    current: list[str] | None = None
    for argument in command:
        if argument.startswith("--"):
            current = [] if argument == "--user" else None
            if current is not None:
                users[str(len(users))] = current
            continue
        if current is not None:
            value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", argument)
            current.append(re.sub(r"([~&])shop\.", rf"\g<1>{prefix}.", value))
    return {rules[0]: rules[1:] for rules in users.values()}


@pytest.fixture
def acl_redis(private_redis: PrivateRedis, channel_prefix: str) -> Iterator[PrivateRedis]:
    """The private server with docker-compose's users (the default user kept, as the admin)."""
    admin = private_redis.client()
    users = compose_users(channel_prefix)
    assert {"default", "shop", "publisher"} <= set(users)
    for name, rules in users.items():
        if name != "default":
            admin.acl_setuser(name, reset=True)
            admin.execute_command("ACL", "SETUSER", name, *rules)
    admin.close()
    yield private_redis


def user_client(server: PrivateRedis, user: str) -> Redis:
    password = {"shop": "shop-dev-password", "publisher": "publisher-dev-password"}[user]
    return Redis(port=server.port, username=user, password=password, socket_timeout=5)


def test_the_shop_works_with_its_least_privilege_user_and_only_the_publisher_sends_commands(
    running_shop: WiredShop, acl_redis: PrivateRedis, channel_prefix: str
) -> None:
    url = f"redis://shop:shop-dev-password@127.0.0.1:{acl_redis.port}/0"
    shop = running_shop(url)
    channels = Channels(channel_prefix)
    admin = acl_redis.client()
    publisher = user_client(acl_redis, "publisher")
    shop.bus.handle(commands.AddProduct(sku="SKU-1", name="A thing", price=Money.of(1250, "EUR")))
    eventually(lambda: admin.pubsub_numpat() >= 1, timeout=10)
    batch = {"reference": "b1", "sku": "SKU-1", "quantity": 10, "eta": None}
    publisher.publish(channels.command_channel("AddBatch"), json.dumps({"payload": batch}))

    def published() -> list[str]:
        return [str(m["type"]) for m in stream_messages(admin, channels.events_stream)]

    # Pub/sub and the stream are two intakes with no order between them: the change waits for
    # its batch, or it would find none.
    eventually(lambda: published() == ["ProductAdded", "BatchAdded"], timeout=10)
    change = {"type": "ChangeBatchQuantity", "payload": {"reference": "b1", "quantity": 4}}
    publisher.xadd(channels.commands_stream, {"message": json.dumps(change)})
    publisher.publish(channels.command_channel("AddBatch"), "not json")

    eventually(
        lambda: published() == ["ProductAdded", "BatchAdded", "BatchQuantityChanged"], timeout=10
    )
    eventually(lambda: admin.xlen(channels.dead_letters_stream) == 1)

    # The shop's user reaches nothing outside its prefix.
    shop_user = user_client(acl_redis, "shop")
    with pytest.raises(NoPermissionError):
        shop_user.publish("elsewhere.commands.add_batch", "{}")
    with pytest.raises(NoPermissionError):
        shop_user.xadd("elsewhere.events", {"message": "{}"})
    # The publisher sends commands, and nothing else.
    with pytest.raises(NoPermissionError):
        publisher.publish(channels.event_channel("OrderShipped"), "{}")
    with pytest.raises(NoPermissionError):
        publisher.xadd(channels.events_stream, {"message": "{}"})
    with pytest.raises(NoPermissionError):
        publisher.xrange(channels.dead_letters_stream)
    for client in (admin, publisher, shop_user):
        client.close()


def test_a_user_without_write_access_to_the_command_channels_cannot_publish_there(
    acl_redis: PrivateRedis, channel_prefix: str
) -> None:
    admin = acl_redis.client()
    admin.execute_command(
        "ACL", "SETUSER", "events-reader", "on", ">reader-password", "resetkeys",
        f"~{channel_prefix}.events", "resetchannels", f"&{channel_prefix}.events.*",
        "-@all", "+@connection", "+ping", "+subscribe", "+psubscribe", "+xread", "+xrange",
    )  # fmt: skip
    reader = Redis(port=acl_redis.port, username="events-reader", password="reader-password")
    channels = Channels(channel_prefix)
    assert reader.xrange(channels.events_stream) == []
    with pytest.raises(NoPermissionError):
        reader.publish(channels.command_channel("ShipOrder"), '{"order_id": "o1"}')
    with pytest.raises(NoPermissionError):
        reader.xadd(channels.commands_stream, {"message": '{"type": "ShipOrder"}'})
    assert admin.xlen(channels.commands_stream) == 0
    for client in (admin, reader):
        client.close()
