"""Command → event round trips through Redis and a real ``shop run`` process, beside a floor.

A ChangeBatchQuantity envelope is published on its command channel; the clock stops when the
BatchQuantityChanged it causes arrives on its event channel (the simple case), or, in the
reallocation case, the LineAllocated of the line it moved to another batch (the release and
the reallocation reaction, as in the reference implementation's measured case). Measured one
at a time (p50/p99) and as a burst of 1,000 (throughput). The floor, in the same run, is a bare
relay process that subscribes, parses JSON and publishes: the cost of Redis and Python alone.
Last, the relay's throughput draining a 10,000-event outbox backlog. Uses a fresh PostgreSQL
database (``SHOP_BENCH_POSTGRES_URL``, default the local server) and ``REDIS_URL`` (default local).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis import Redis
from sqlalchemy import insert

from bench.http import fresh_database

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ONE_AT_A_TIME = 300
WARM_UP = 50
BURST = 1_000
BACKLOG = 10_000
BATCHES = 16
MOVES = WARM_UP + ONE_AT_A_TIME + BURST  # lines moved in the reallocation case, one a command


def floor_relay(redis_url: str, inbound: str, outbound: str) -> None:
    """The floor: subscribe, parse, publish; runs in its own process until killed."""
    client = Redis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(inbound)
    print("floor ready", flush=True)
    for message in pubsub.listen():
        data = json.loads(message["data"])
        client.publish(outbound, json.dumps(data))


class Probe:
    """Sends numbered messages on one channel and waits for their echoes on another."""

    def __init__(self, client: Redis, inbound: str, outbound: str, make: Callable[[int], str]):
        self.client = client
        self.inbound = inbound
        self.make = make
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(outbound)
        while not self.pubsub.subscribed:
            self.pubsub.get_message(timeout=0.1)

    def _wait_for(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        seen = 0
        while seen < count:
            if self.pubsub.get_message(timeout=1.0) is not None:
                seen += 1
            elif time.monotonic() > deadline:
                raise RuntimeError(f"only {seen} of {count} answers arrived")

    def one_at_a_time(self, n: int, start: int) -> list[float]:
        """Round-trip seconds of ``n`` messages sent one after the other."""
        times = []
        for i in range(start, start + n):
            began = time.perf_counter()
            self.client.publish(self.inbound, self.make(i))
            self._wait_for(1)
            times.append(time.perf_counter() - began)
        return times

    def burst(self, n: int, start: int) -> float:
        """Messages per second for ``n`` sent at once."""
        pipe = self.client.pipeline(transaction=False)
        for i in range(start, start + n):
            pipe.publish(self.inbound, self.make(i))
        began = time.perf_counter()
        pipe.execute()
        self._wait_for(n)
        return n / (time.perf_counter() - began)


def report(name: str, times: list[float], rate: float) -> dict[str, float]:
    """Print p50/p99 and throughput; return the p50 (ms) and the throughput by figure name."""
    ordered = sorted(times)
    p50 = statistics.median(ordered) * 1e3
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1e3
    print(f"   {name:<24} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   burst {rate:8.0f} /s")
    figure = name.removeprefix("shop, ")
    return {f"{figure} p50 ms": p50, f"{figure} burst /s": rate}


def start_process(
    args: list[str], env: dict[str, str], ready: str, cwd: str
) -> subprocess.Popen[str]:
    """Start a process and wait for a line matching ``ready`` on its output."""
    process = subprocess.Popen(
        args,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if re.search(ready, line):
            # Keep reading its output so the process never blocks on a full pipe.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process
    raise RuntimeError(f"{args} exited before it was ready")


def stop_process(process: subprocess.Popen[str]) -> None:
    """SIGTERM and wait."""
    process.terminate()
    process.wait(30)


def main() -> dict[str, float]:
    """Run the floor, the shop's round trips and the relay backlog; print the numbers and
    return the shop's (p50 ms and burst /s of each case, relay events/s)."""
    with fresh_database() as database_url, tempfile.TemporaryDirectory() as workdir:
        return run(database_url, workdir)


def run(database_url: str, workdir: str) -> dict[str, float]:
    """The measurements on one database; the shop's figures."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    client = Redis.from_url(REDIS_URL)
    floor = start_process(
        [
            sys.executable,
            "-c",
            f"from bench.redis_roundtrip import floor_relay; "
            f"floor_relay({REDIS_URL!r}, {prefix + '.floor.in'!r}, {prefix + '.floor.out'!r})",
        ],
        {"PYTHONPATH": os.getcwd()},
        "floor ready",
        os.getcwd(),
    )
    try:
        probe = Probe(
            client,
            f"{prefix}.floor.in",
            f"{prefix}.floor.out",
            lambda i: json.dumps({"reference": "b1", "quantity": i}),
        )
        probe.one_at_a_time(WARM_UP, 0)
        report("floor (bare relay)", probe.one_at_a_time(ONE_AT_A_TIME, 0), probe.burst(BURST, 0))
    finally:
        stop_process(floor)

    seed(database_url, prefix)
    seed_moves(database_url, prefix)
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "SHOP_CHANNEL_PREFIX": prefix,
        "SHOP_LOG_LEVEL": "WARNING",
    }
    figures: dict[str, float] = {}
    shop = start_process(
        [sys.executable, "-m", "shop.entrypoints.cli", "run", "--port", "0"],
        {**env, "SHOP_LOG_LEVEL": "INFO"},
        "shop ready",
        workdir,
    )
    try:
        time.sleep(0.5)  # the consumer subscribes after the ready line
        rows = (("shop, one batch", 1, 0), (f"shop, {BATCHES} batches", BATCHES, 10_000))
        for name, batches, base in rows:
            probe = Probe(
                client,
                f"{prefix}.commands.change_batch_quantity",
                f"{prefix}.events.batch_quantity_changed",
                change_quantity(batches),
            )
            # Every quantity differs from the batch's last one: an event each.
            probe.one_at_a_time(WARM_UP, base + 100)
            times = probe.one_at_a_time(ONE_AT_A_TIME, base + 1000)
            figures |= report(name, times, probe.burst(BURST, base + 5000))
            probe.pubsub.close()
        probe = Probe(
            client,
            f"{prefix}.commands.change_batch_quantity",
            f"{prefix}.events.line_allocated",
            move_a_line,
        )
        probe.one_at_a_time(WARM_UP, 1)
        times = probe.one_at_a_time(ONE_AT_A_TIME, WARM_UP + 1)
        rate = probe.burst(BURST, WARM_UP + ONE_AT_A_TIME + 1)
        figures |= report("shop, a line moves", times, rate)
        probe.pubsub.close()
    finally:
        stop_process(shop)
    figures["relay events/s"] = drain_backlog(database_url, prefix)
    for key in client.scan_iter(match=f"{prefix}.*"):
        client.delete(key)
    client.close()
    return figures


def change_quantity(batches: int) -> Callable[[int], str]:
    """The n-th ChangeBatchQuantity envelope, round-robin over ``batches`` batches."""

    def make(n: int) -> str:
        return json.dumps(
            {
                "message_id": str(uuid.uuid4()),
                "type": "ChangeBatchQuantity",
                "payload": {"reference": f"b{n % batches + 1}", "quantity": 10 + n},
            }
        )

    return make


def move_a_line(n: int) -> str:
    """The n-th lowering of the warehouse batch of MOVE by one unit: its newest line moves."""
    return json.dumps(
        {
            "message_id": str(uuid.uuid4()),
            "type": "ChangeBatchQuantity",
            "payload": {"reference": "m-now", "quantity": MOVES - n},
        }
    )


def seed_moves(database_url: str, prefix: str) -> None:
    """A sku whose warehouse batch holds MOVES one-unit lines, and a later batch with room."""
    from datetime import date

    from shop.bootstrap import bootstrap
    from shop.config import Settings
    from shop.domain import commands
    from shop.domain.money import Money
    from shop.domain.ordering import Address, Order
    from shop.service_layer.inventory import allocate_line

    shop = bootstrap(Settings(database_url=database_url, channel_prefix=prefix))
    price = Money.of(100, "EUR")
    shop.bus.handle(commands.AddProduct(sku="MOVE", name="Bench", price=price))
    shop.bus.handle(commands.AddBatch(reference="m-now", sku="MOVE", quantity=MOVES))
    later = commands.AddBatch(reference="m-later", sku="MOVE", quantity=10**6, eta=date(2099, 1, 1))
    shop.bus.handle(later)
    with shop.uow_factory() as uow:
        for n in range(MOVES):
            order = Order.create(f"move-{n}", "bench")
            order.add_line("MOVE", "Bench", price, 1)
            order.set_shipping_address(Address("1 Main St", "Berlin", "10115", "DE"))
            order.place()
            uow.orders.add(order)
            allocate_line(uow, order, "MOVE")
        uow.commit()
    with shop.engine.begin() as connection:  # the seed's events are not the bench's
        connection.exec_driver_sql("UPDATE outbox SET published_at = now(), handled_at = now()")
    with shop.engine.connect() as connection:
        # Statistics, as autovacuum gathers them within a minute of a bulk load: without them
        # the planner sorts every line of the batch to find its newest.
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    shop.close()


def seed(database_url: str, prefix: str) -> None:
    """Migrate, and add the products and batches the commands change."""
    from shop.bootstrap import bootstrap
    from shop.config import Settings
    from shop.domain import commands
    from shop.domain.money import Money
    from shop.migrations import upgrade

    shop = bootstrap(Settings(database_url=database_url, channel_prefix=prefix))
    upgrade(shop.engine)
    for n in range(1, BATCHES + 1):  # a sku each: a sku's stock is one aggregate
        price = Money.of(100, "EUR")
        shop.bus.handle(commands.AddProduct(sku=f"SKU-{n}", name="Bench", price=price))
        shop.bus.handle(commands.AddBatch(reference=f"b{n}", sku=f"SKU-{n}", quantity=10))
    shop.close()


def drain_backlog(database_url: str, prefix: str) -> float:
    """Time the relay publishing a 10,000-event backlog; its events per second."""
    from seedwork.core.messages import utcnow
    from shop.adapters import tables as db
    from shop.bootstrap import bootstrap
    from shop.config import Settings
    from shop.entrypoints.workers import build_relay

    shop = bootstrap(
        Settings(database_url=database_url, redis_url=REDIS_URL, channel_prefix=prefix)
    )
    rows: list[dict[str, Any]] = []
    for n in range(BACKLOG):
        message_id = str(uuid.uuid4())
        envelope = {
            "message_id": message_id,
            "type": "BatchQuantityChanged",
            "version": 1,
            "occurred_at": utcnow().isoformat(),
            "correlation_id": message_id,
            "causation_id": None,
            "payload": {"reference": "b1", "sku": "SKU-1", "quantity": n},
        }
        rows.append(
            {
                "message_id": message_id,
                "type": "BatchQuantityChanged",
                "version": 1,
                "occurred_at": utcnow(),
                "correlation_id": message_id,
                "envelope": json.dumps(envelope),
                "handled_at": utcnow(),
            }
        )
    with shop.engine.begin() as connection:
        connection.execute(insert(db.seedwork_tables.outbox), rows)
    relay = build_relay(shop)
    began = time.perf_counter()
    drained = relay.drain()
    elapsed = time.perf_counter() - began
    shop.close()
    print(
        f"   relay backlog            {drained} events in {elapsed:.2f} s = "
        f"{drained / elapsed:8.0f} events/s (goal >= 5,000)"
    )
    return drained / elapsed


if __name__ == "__main__":
    main()
