"""The Redis bridge with real processes: crashes, a Redis outage, and the operator's commands."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from redis import Redis
from sqlalchemy import create_engine, select

from seedwork.redis.channels import Channels
from shop.adapters import tables as db
from shop.bootstrap import bootstrap
from shop.config import Settings
from shop.domain import commands
from shop.service_layer import inventory
from tests.contract import CONTRACT_EVENTS
from tests.e2e.server import ShopProcess
from tests.integration.redis.private_server import PrivateRedis
from tests.waiting import eventually


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


def post(url: str, body: dict[str, Any] | None = None, status: int = 201) -> dict[str, Any]:
    answer = requests.post(url, json=body or {}, timeout=10)
    assert answer.status_code == status, answer.text
    return dict(answer.json())


def backordered_order(url: str, sku: str) -> str:
    """A placed order for 2 of ``sku``, waiting for stock."""
    customer = post(f"{url}/customers", {"name": "Ada", "email": "ada@example.com"})["customer_id"]
    order = post(f"{url}/orders", {"customer_id": customer})["order_id"]
    post(f"{url}/orders/{order}/lines", {"sku": sku, "quantity": 2})
    address = {"street": "1 Main St", "city": "Paris", "postcode": "75001", "country": "FR"}
    assert requests.put(f"{url}/orders/{order}/shipping-address", json=address, timeout=10).ok
    assert post(f"{url}/orders/{order}/place", status=202)["status"] == "backordered"
    return order


def add_product(url: str, sku: str) -> None:
    post(f"{url}/products", {"sku": sku, "name": sku, "price": {"amount": 500, "currency": "EUR"}})


def stream(redis: Redis, name: str) -> list[dict[str, Any]]:
    return [json.loads(fields[b"message"]) for _, fields in redis.xrange(name)]


def outbox_rows(database_url: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(db.seedwork_tables.outbox)))
    finally:
        engine.dispose()


def test_sigkill_between_commit_and_publish_then_restart_delivers_and_reacts(
    start_shop: Callable[..., ShopProcess], database_url: str, redis_url: str, channel_prefix: str
):
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    shop = start_shop("run", "--port", "0")
    for sku in ("SKU-A", "SKU-B"):
        add_product(shop.url, sku)
    waiting_a, waiting_b = (
        backordered_order(shop.url, "SKU-A"),
        backordered_order(shop.url, "SKU-B"),
    )
    assert shop.stop() == 0
    already_published = len(stream(redis, channels.events_stream))

    # A consumer alone (no relay) commits a command and its reactions, then is killed.
    consumer = start_shop("consumer")
    consumer.wait_for_log("consumer subscribed")
    batch = {"type": "AddBatch", "payload": {"reference": "a1", "sku": "SKU-A", "quantity": 5}}
    redis.xadd(channels.commands_stream, {"message": json.dumps(batch)})
    eventually(
        lambda: any(row.type == "OrderConfirmed" for row in outbox_rows(database_url)), timeout=15
    )
    consumer.kill()
    # A process that committed and died before dispatching anything: the handler without the bus.
    crashed = bootstrap(Settings(database_url=database_url, channel_prefix=channel_prefix))
    inventory.add_batch(
        commands.AddBatch(reference="b1", sku="SKU-B", quantity=5), crashed.uow_factory()
    )
    crashed.close()
    assert len(stream(redis, channels.events_stream)) == already_published

    restarted = start_shop("run", "--port", "0")
    for order in (waiting_a, waiting_b):
        eventually(
            lambda order=order: (
                requests.get(f"{restarted.url}/orders/{order}", timeout=5).json()["status"]
                == "confirmed"
            ),
            timeout=15,
        )
    rows = eventually(
        lambda: (
            (rows := outbox_rows(database_url))
            and all(row.published_at and row.handled_at for row in rows)
            and rows
        ),
        timeout=15,
    )
    messages = stream(redis, channels.events_stream)
    # Only the contract's events go out, under the contract's names, and all of them do.
    assert {m["type"] for m in messages} <= CONTRACT_EVENTS
    published = {m["message_id"] for m in messages}
    committed = {row.message_id for row in rows if row.type in CONTRACT_EVENTS}
    assert committed <= published
    redis.close()


def test_redis_stopped_while_twenty_http_commands_succeed_then_every_event_arrives(
    start_shop: Callable[..., ShopProcess], private_redis: PrivateRedis, channel_prefix: str
):
    shop = start_shop("run", "--port", "0", REDIS_URL=private_redis.url)
    add_product(shop.url, "SKU-1")
    private_redis.stop()
    for n in range(20):
        post(
            f"{shop.url}/batches",
            {"reference": f"b{n}", "sku": "SKU-1", "quantity": 3, "eta": None},
        )
    health = requests.get(f"{shop.url}/health", timeout=10)
    assert (health.status_code, health.json()["redis"]) == (503, "unavailable")
    private_redis.start()
    redis = private_redis.client()
    events = Channels(channel_prefix).events_stream

    def delivered() -> list[str]:
        return [
            m["payload"]["reference"] for m in stream(redis, events) if m["type"] == "BatchAdded"
        ]

    eventually(lambda: len(delivered()) == 20, timeout=15)
    assert delivered() == [f"b{n}" for n in range(20)]
    shop.wait_for_log("redis reachable")
    assert shop.stop() == 0
    redis.close()


def shop_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dead_letters_are_listed_and_replayed_and_the_outbox_reports_its_state(
    shop: ShopProcess, database_url: str, redis_url: str, channel_prefix: str, tmp_path: Path
):
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SHOP_CHANNEL_PREFIX": channel_prefix,
    }
    channels = Channels(channel_prefix)
    redis = Redis.from_url(redis_url)
    shop.wait_for_log("consumer subscribed")
    add_product(shop.url, "SKU-1")
    redis.publish(channels.command_channel("AddBatch"), "{not json")
    redis.publish(
        channels.command_channel("AddBatch"),
        json.dumps({"reference": "b1", "sku": "SKU-2", "quantity": 5}),
    )
    shop.wait_for_log("dead letter .*UnknownSku")

    listed = shop_cli("dead-letters", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "not valid JSON" in listed.stdout and "UnknownSku" in listed.stdout
    assert f"{channel_prefix}.commands.add_batch" in listed.stdout
    hopeless, fixable = [fields for fields in redis.xrange(channels.dead_letters_stream)]

    add_product(shop.url, "SKU-2")
    replayed = shop_cli("dead-letters", "replay", fixable[0].decode(), env=env, cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert requests.get(f"{shop.url}/stock/SKU-2", timeout=5).json()["available"] == 5
    failed = shop_cli("dead-letters", "replay", hopeless[0].decode(), env=env, cwd=tmp_path)
    assert failed.returncode == 1
    assert "not valid JSON" in failed.stderr
    assert [entry for entry, _ in redis.xrange(channels.dead_letters_stream)] == [hopeless[0]]

    eventually(
        lambda: "pending: 0" in shop_cli("outbox", "status", env=env, cwd=tmp_path).stdout,
        timeout=15,
    )
    status = shop_cli("outbox", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0
    assert "failed: 0" in status.stdout and "oldest pending age: -" in status.stdout
    redis.close()


@pytest.mark.parametrize(
    ("role", "ready"), [("consumer", "consumer subscribed"), ("relay", "relay started")]
)
def test_a_single_role_worker_stops_cleanly_on_sigterm(
    shop: ShopProcess, start_shop: Callable[..., ShopProcess], role: str, ready: str
):
    worker = start_shop(role)
    worker.wait_for_log(ready)
    assert worker.stop() == 0
    assert "Traceback" not in worker.log()


def test_the_api_beside_a_standalone_relay_gets_its_events_out_without_waiting_for_a_poll(
    start_shop: Callable[..., ShopProcess],
    database_url: str,
    redis_url: str,
    channel_prefix: str,
    tmp_path: Path,
):
    env = {"DATABASE_URL": database_url}
    assert shop_cli("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    port = _free_port()
    start_shop("api", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
    start_shop("relay").wait_for_log("relay listening for commits")
    url = f"http://127.0.0.1:{port}"
    eventually(lambda: _answers(f"{url}/health"), timeout=15)
    price = {"amount": 100, "currency": "EUR"}
    post(f"{url}/products", {"sku": "LAMP", "name": "Lamp", "price": price})
    redis = Redis.from_url(redis_url)
    channel = Channels(channel_prefix).event_channel("BatchAdded")
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    eventually(lambda: pubsub.get_message(timeout=0.01) is None and pubsub.subscribed, timeout=15)
    delays = []
    for n in range(7):
        post(f"{url}/batches", {"reference": f"b-{n}", "sku": "LAMP", "quantity": 5})
        answered = time.monotonic()
        message = eventually(lambda: pubsub.get_message(timeout=0.01), timeout=15)
        delays.append(time.monotonic() - answered)
        assert json.loads(message["data"])["payload"]["reference"] == f"b-{n}"
    pubsub.close()
    redis.close()
    # The relay polls every 0.5 s; woken by the API's commits it takes a few milliseconds.
    assert sorted(delays)[len(delays) // 2] < 0.1, delays


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
