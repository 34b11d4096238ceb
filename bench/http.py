"""The HTTP API under gunicorn (2 workers) beside a floor: a bare Flask app issuing the same SQL.

Both run on one fresh PostgreSQL database; adding batches and the order story (create, add a
line, set the address, place: allocation and read models included) are driven at 1 and 8
concurrent clients. Goal: at least 0.6 of the floor's throughput.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "SHOP_BENCH_POSTGRES_URL",
    os.environ.get(
        "SHOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
)
SECONDS = 2.0  # per round and server
ROUNDS = 3  # the two servers alternate, so a slow spell of the machine hits both
CLIENTS = (1, 8)
SKUS_PER_CLIENT = 8
ROOT = Path(__file__).resolve().parent.parent
ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}
# The shop checks bearer tokens (CONTRACT §4): the bench configures this secret and acts as staff.
SECRET = "bench-only-secret-0123456789abcdefghijklmnopqrstuv"
Step = Callable[[requests.Session, str, int], list[float]]
HEADER = (
    f"   {'scenario':<14}{'clients':>7}  {'shop req/s':>10} {'p50 ms':>7} {'p99 ms':>7}"
    f"  {'floor req/s':>11} {'p50 ms':>7} {'p99 ms':>7}  ratio"
)
# Client number -> a registered customer's id (the floor accepts any id).
CUSTOMERS: dict[int, str] = {}


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database, dropped afterwards."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"shop_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def session() -> requests.Session:
    """An HTTP session sending a staff token of the bench's secret (the floor ignores it)."""
    from shop.adapters.tokens import issue_token, token_keys
    from shop.auth_config import AuthSettings
    from shop.domain.visa import Role

    auth = AuthSettings(secret=SECRET)
    token = issue_token(token_keys(auth), auth, role=Role.STAFF, subject="bench", ttl=3600)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


@contextmanager
def server(args: list[str], url: str, port: int) -> Iterator[str]:
    """A server process, ready to answer, stopped afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SHOP_LOG_LEVEL": "WARNING",
        "SHOP_AUTH_SECRET": SECRET,
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [sys.executable, *args], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/ready-probe", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{args} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(20)


def _post(http: requests.Session, url: str, expect: int, method: str = "POST", **kw: object):
    started = time.perf_counter()
    answer = http.request(method, url, timeout=30, **kw)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    if answer.status_code != expect:
        raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:200]}")
    return elapsed, answer


def add_batch(http: requests.Session, base: str, client: int) -> list[float]:
    """One POST /batches on one of the client's skus."""
    sku = f"SKU-{client}-{uuid.uuid4().int % SKUS_PER_CLIENT}"
    body = {"reference": uuid.uuid4().hex, "sku": sku, "quantity": 10, "eta": None}
    elapsed, _ = _post(http, f"{base}/batches", 201, json=body)
    return [elapsed]


def order_story(http: requests.Session, base: str, client: int) -> list[float]:
    """Create, add a line, set the address, place: four requests."""
    times = []
    customer = {"customer_id": CUSTOMERS[client]}
    elapsed, answer = _post(http, f"{base}/orders", 201, json=customer)
    times.append(elapsed)
    order = f"{base}/orders/{answer.json()['order_id']}"
    line = {"sku": f"STORY-{client}", "quantity": 1}
    times.append(_post(http, f"{order}/lines", 201, json=line)[0])
    times.append(_post(http, f"{order}/shipping-address", 200, "PUT", json=ADDRESS)[0])
    times.append(_post(http, f"{order}/place", 202)[0])
    return times


def drive(base: str, step: Step, clients: int) -> tuple[list[float], float]:
    """Latencies of the requests made over ``SECONDS`` by ``clients`` threads, and the time."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + SECONDS

    def work(index: int) -> None:
        http = session()
        while time.perf_counter() < stop:
            latencies[index].extend(step(http, base, index))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [t for found in latencies for t in found], time.perf_counter() - started


def compare(shop: str, floor: str, step: Step, clients: int) -> list[tuple[float, float, float]]:
    """Requests/s, p50 and p99 (ms) of the shop and of the floor, in alternating rounds."""
    found: dict[str, tuple[list[float], float]] = {shop: ([], 0.0), floor: ([], 0.0)}
    for base in (shop, floor):
        drive(base, step, clients)  # warm up
    for round_ in range(ROUNDS):
        for base in (shop, floor) if round_ % 2 == 0 else (floor, shop):
            latencies, elapsed = drive(base, step, clients)
            found[base] = (found[base][0] + latencies, found[base][1] + elapsed)
    results = []
    for latencies, elapsed in found.values():
        every = sorted(latencies)
        p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
        results.append((len(every) / elapsed, statistics.median(every) * 1000, p99 * 1000))
    return results


def set_up_shop(base: str) -> None:
    """Products, batches and customers the scenarios use."""
    http = session()
    price = {"amount": 1999, "currency": "EUR"}
    for client in range(max(CLIENTS)):
        for n in range(SKUS_PER_CLIENT):
            body = {"sku": f"SKU-{client}-{n}", "name": "bench", "price": price}
            _post(http, f"{base}/products", 201, json=body)
        body = {"sku": f"STORY-{client}", "name": "bench", "price": price}
        _post(http, f"{base}/products", 201, json=body)
        batch = {"reference": f"story-{client}", "sku": f"STORY-{client}", "quantity": 10**8}
        _post(http, f"{base}/batches", 201, json=batch)


def set_up_floor(base: str) -> None:
    """The floor's batches for the order story."""
    http = session()
    for client in range(max(CLIENTS)):
        batch = {"reference": f"story-{client}", "sku": f"STORY-{client}", "quantity": 10**8}
        _post(http, f"{base}/batches", 201, json=batch)


def main() -> dict[str, float]:
    """Run both servers, every scenario at each concurrency, print the comparison and return
    the throughput ratios (shop / floor)."""
    from shop.adapters.database import create_database_engine
    from shop.migrations import upgrade

    with fresh_database() as url:
        engine = create_database_engine(url)
        upgrade(engine)
        engine.dispose()
        ratios = {}
        shop_port, floor_port = free_port(), free_port()
        shop_args = ["-m", "shop.entrypoints.cli", "api", "--host", "127.0.0.1"]
        with (
            server(
                [*shop_args, "--port", str(shop_port), "--workers", "2"], url, shop_port
            ) as shop,
            server(["-m", "bench.http_floor", url, str(floor_port)], url, floor_port) as floor,
        ):
            set_up_shop(shop)
            http = session()
            for client in range(max(CLIENTS)):
                body = {"name": "bench", "email": "bench@example.com"}
                customer = _post(http, f"{shop}/customers", 201, json=body)[1].json()
                CUSTOMERS[client] = customer["customer_id"]
            set_up_floor(floor)
            print(HEADER)
            for name, step in (("add batch", add_batch), ("order story", order_story)):
                for clients in CLIENTS:
                    ours, bare = compare(shop, floor, step, clients)
                    print(
                        f"   {name:<14}{clients:>7}  {ours[0]:>10.0f} {ours[1]:>7.1f} "
                        f"{ours[2]:>7.1f}  {bare[0]:>11.0f} {bare[1]:>7.1f} {bare[2]:>7.1f}  "
                        f"{ours[0] / bare[0]:.2f}",
                        flush=True,
                    )
                    plural = "client" if clients == 1 else "clients"
                    ratios[f"{name} {clients} {plural} shop/floor"] = ours[0] / bare[0]
    print("   goal: ratio >= 0.6 (shop throughput / floor throughput)")
    return ratios


if __name__ == "__main__":
    main()
