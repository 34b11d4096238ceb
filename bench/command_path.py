"""Commands through bus + SQLAlchemy unit of work, beside the same writes by hand with psycopg.

Both paths add batches and allocate order lines on PostgreSQL, one transaction per command,
writing the same rows and the same outbox rows (the events, as JSON envelopes). The bus
path also runs the domain's reactions, as in production. A third path sends the floor's very
SQL strings through SQLAlchemy's engine (no ORM, no statement compiling): what the library
costs before the ORM does anything. Goal: the bus path costs at most 1.5x the floor.
"""

from __future__ import annotations

import functools
import gc
import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy.engine import make_url

from bench.allocation_scaling import fresh_database, place_orders, wired
from shop.bootstrap import Shop
from shop.domain import commands as c
from shop.domain.money import Money

SKUS = 50
ROUNDS = 6
PER_ROUND = 100  # of each command, per path and round


def envelope(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox row for one event, as the unit of work writes it."""
    message_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    text = json.dumps(
        {
            "message_id": message_id,
            "type": kind,
            "version": 1,
            "occurred_at": now.isoformat(),
            "correlation_id": message_id,
            "causation_id": None,
            "payload": payload,
        },
        separators=(",", ":"),
    )
    return {"message_id": message_id, "type": kind, "occurred_at": now, "envelope": text}


OUTBOX = (
    "INSERT INTO outbox (message_id, type, version, occurred_at, correlation_id, envelope)"
    " VALUES (%(message_id)s, %(type)s, 1, %(occurred_at)s, %(message_id)s, %(envelope)s)"
)


def _batches(cursor: Any, sku: str) -> tuple[int, list[tuple[Any, ...]]]:
    cursor.execute(
        "SELECT s.version, b.id, b.reference, b.quantity, b.allocated, b.eta FROM stocks s"
        " LEFT JOIN batches b ON b.sku = s.sku WHERE s.sku = %s ORDER BY b.id",
        (sku,),
    )
    rows = cursor.fetchall()
    return rows[0][0], [row[1:] for row in rows if row[1] is not None]


def _stock_revised(sku: str, batches: list[tuple[Any, ...]]) -> dict[str, Any]:
    views = [
        {"reference": r, "eta": e and e.isoformat(), "quantity": q, "allocated": a,
         "available": q - a}
        for _, r, q, a, e in batches
    ]  # fmt: skip
    return envelope("StockRevised", {"sku": sku, "batches": views})


class DriverSql:
    """The cursor calls the floor makes, through a SQLAlchemy connection's ``exec_driver_sql``."""

    def __init__(self, connection: sqlalchemy.Connection) -> None:
        self._connection = connection
        self._result: sqlalchemy.CursorResult[Any] | None = None

    def execute(self, sql: str, parameters: tuple[Any, ...]) -> None:
        """Run one statement."""
        self._result = self._connection.exec_driver_sql(sql, parameters)

    def executemany(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Run one statement per row."""
        self._connection.exec_driver_sql(sql, rows)

    def fetchone(self) -> Any:
        """The next row of the last statement."""
        assert self._result is not None
        return self._result.fetchone()

    def fetchall(self) -> list[Any]:
        """The remaining rows of the last statement."""
        assert self._result is not None
        return list(self._result.fetchall())


Transaction = Callable[[], AbstractContextManager[Any]]


def psycopg_transaction(connection: psycopg.Connection[Any]) -> Transaction:
    """A psycopg transaction and a cursor in it."""

    @contextmanager
    def transaction() -> Iterator[psycopg.Cursor[Any]]:
        with connection.transaction(), connection.cursor() as cursor:
            yield cursor

    return transaction


def engine_transaction(engine: sqlalchemy.Engine) -> Transaction:
    """A SQLAlchemy connection's transaction, with the floor's cursor calls."""

    @contextmanager
    def transaction() -> Iterator[DriverSql]:
        with engine.begin() as connection:
            yield DriverSql(connection)

    return transaction


def add_batch_by_hand(transaction: Transaction, reference: str, sku: str) -> None:
    """AddBatch: check sku and reference, insert the batch, bump the stock, two events."""
    with transaction() as cursor:
        cursor.execute("SELECT 1 FROM products WHERE sku = %s", (sku,))
        assert cursor.fetchone() is not None
        cursor.execute("SELECT 1 FROM batches WHERE reference = %s", (reference,))
        assert cursor.fetchone() is None
        version, batches = _batches(cursor, sku)
        cursor.execute(
            "INSERT INTO batches (reference, sku, quantity, eta, allocated)"
            " VALUES (%s, %s, 1000, NULL, 0) RETURNING id",
            (reference, sku),
        )
        batches.append((cursor.fetchone(), reference, 1000, 0, None))
        cursor.execute(
            "UPDATE stocks SET version = %s WHERE sku = %s AND version = %s",
            (version + 1, sku, version),
        )
        added = {"reference": reference, "sku": sku, "quantity": 1000, "eta": None}
        cursor.executemany(OUTBOX, [envelope("BatchAdded", added), _stock_revised(sku, batches)])


def allocate_by_hand(transaction: Transaction, order_id: str, sku: str) -> None:
    """Allocate: load order and stock, take a batch, update four rows, four events."""
    with transaction() as cursor:
        cursor.execute(
            "SELECT o.id, o.version, l.id, l.quantity, l.sku, l.batch_reference FROM orders o"
            " JOIN order_lines l ON l.order_pk = o.id WHERE o.order_id = %s ORDER BY l.id",
            (order_id,),
        )
        lines = cursor.fetchall()
        order_pk, order_version, line_id, quantity = lines[0][:4]
        version, batches = _batches(cursor, sku)
        taken = next(b for b in batches if b[2] - b[3] >= quantity)
        cursor.execute(
            "UPDATE stocks SET version = %s WHERE sku = %s AND version = %s",
            (version + 1, sku, version),
        )
        cursor.execute(
            "UPDATE orders SET status = 'confirmed', version = %s WHERE id = %s AND version = %s",
            (order_version + 1, order_pk, order_version),
        )
        cursor.execute(
            "UPDATE batches SET allocated = %s WHERE id = %s", (taken[3] + quantity, taken[0])
        )
        cursor.execute(
            "UPDATE order_lines SET batch_reference = %s, allocation_seq = coalesce((SELECT"
            " max(e.allocation_seq) FROM order_lines e WHERE e.batch_reference = %s), 0) + 1"
            " WHERE id = %s",
            (taken[1], taken[1], line_id),
        )
        allocated = {"order_id": order_id, "sku": sku, "quantity": quantity,
                     "batch_reference": taken[1]}  # fmt: skip
        revised = {"order_id": order_id, "status": "confirmed", "lines": len(lines)}
        cursor.executemany(
            OUTBOX,
            [
                envelope("LineAllocated", allocated),
                envelope("OrderConfirmed", {"order_id": order_id}),
                envelope("OrderRevised", revised),
                _stock_revised(sku, batches),
            ],
        )


def timed(run: Callable[[int], None], count: int) -> list[float]:
    """Seconds of each of ``count`` calls."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        run(n)
        times.append(time.perf_counter() - started)
    return times


def prepare(shop: Shop) -> None:
    """Products and stocks for both paths, and placed orders to allocate."""
    for sku in [f"{path}-{n}" for path in ("BUS", "CORE", "HAND") for n in range(SKUS)]:
        shop.bus.handle(c.AddProduct(sku=sku, name="Lamp", price=Money.of(2_000, "EUR")))
        shop.bus.handle(c.AddBatch(reference=f"first-{sku}", sku=sku, quantity=1_000_000))
    for path in ("BUS", "CORE", "HAND"):
        for n in range(SKUS):
            count = ROUNDS * PER_ROUND // SKUS + 1
            place_orders(shop, f"{path}-{n}", count, sku=f"{path}-{n}")


def order_for(path: str, n: int) -> tuple[str, str]:
    """The n-th order of a path and its sku: spread evenly over the skus."""
    sku = n % SKUS
    return f"{path}-{sku}-{n // SKUS}", f"{path}-{sku}"


def report(name: str, times: list[float]) -> float:
    """Print throughput and latency of one path; return its mean."""
    mean = statistics.fmean(times)
    p50 = statistics.median(times) * 1e3
    p99 = statistics.quantiles(times, n=100)[98] * 1e3
    print(f"   {name:<12} {1 / mean:8.0f} commands/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    return mean


def main() -> None:
    """Alternate the three paths round by round, then report each and the ratios."""
    with fresh_database() as url:
        shop = wired(url)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            prepare(shop)
            times: dict[str, list[float]] = {"BUS": [], "CORE": [], "HAND": []}
            with psycopg.connect(dsn) as connection:
                by_hand = {
                    "CORE": engine_transaction(shop.engine),
                    "HAND": psycopg_transaction(connection),
                }
                gc.collect()
                for r in range(ROUNDS):
                    base = r * PER_ROUND

                    def bus_batch(n: int, base: int = base) -> None:
                        sku = f"BUS-{(base + n) % SKUS}"
                        shop.bus.handle(
                            c.AddBatch(reference=f"bus-{base + n}", sku=sku, quantity=1000)
                        )

                    def bus_allocate(n: int, base: int = base) -> None:
                        order_id, sku = order_for("BUS", base + n)
                        shop.bus.handle(c.Allocate(order_id=order_id, sku=sku, quantity=1))

                    def hand_batch(n: int, base: int = base, path: str = "HAND") -> None:
                        sku = f"{path}-{(base + n) % SKUS}"
                        add_batch_by_hand(by_hand[path], f"{path}-{base + n}", sku)

                    def hand_allocate(n: int, base: int = base, path: str = "HAND") -> None:
                        allocate_by_hand(by_hand[path], *order_for(path, base + n))

                    steps: dict[str, tuple[Callable[[int], None], Callable[[int], None]]] = {
                        "BUS": (bus_batch, bus_allocate),
                        **{
                            path: (
                                functools.partial(hand_batch, path=path),
                                functools.partial(hand_allocate, path=path),
                            )
                            for path in by_hand
                        },
                    }
                    order = list(steps)
                    order = (
                        order[r % len(order) :] + order[: r % len(order)]
                    )  # no path always first
                    for path in order:
                        batch, allocate = steps[path]
                        times[path] += timed(batch, PER_ROUND) + timed(allocate, PER_ROUND)
        finally:
            shop.close()
    warm = 2 * PER_ROUND  # the first round warms up
    bus = report("bus + uow", times["BUS"][warm:])
    core = report("sqlalchemy", times["CORE"][warm:])  # engine + pool checkout per command
    floor = report("psycopg", times["HAND"][warm:])
    print(f"   ratio        {bus / floor:8.2f} x (goal <= 1.5)")
    print(f"   sqlalchemy's engine alone, same SQL: {core / floor:.2f} x the floor")


if __name__ == "__main__":
    main()
