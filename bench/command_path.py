"""Commands through bus + SQLAlchemy unit of work, beside the same durable work by hand.

Production wiring (reactions and inline read models). Both paths add batches (one
transaction) and place orders whose line is then allocated (the place, then the allocation
reaction with its inbox row), on PostgreSQL, writing the same rows, the same outbox rows (the
events, as JSON envelopes) and the same read-model rows in the same transactions. A third path
sends the floor's very SQL strings through SQLAlchemy's engine (no ORM, no statement
compiling): what the library costs before the ORM does anything. The floor is psycopg.
Goal: each operation costs at most 2.5x the floor.
"""

from __future__ import annotations

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
PER_ROUND = 60  # of each command, per path and round


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


def _log(cursor: Any, *events: dict[str, Any]) -> list[int]:
    """Write the events to the outbox in one statement; their log positions, in order."""
    values = ", ".join(["(%s, %s, 1, %s, %s, %s)"] * len(events))
    cursor.execute(
        "INSERT INTO outbox (message_id, type, version, occurred_at, correlation_id, envelope)"
        f" VALUES {values} RETURNING id",
        tuple(
            v
            for e in events
            for v in (e["message_id"], e["type"], e["occurred_at"], e["message_id"], e["envelope"])
        ),
    )
    return [row[0] for row in cursor.fetchall()]


def _stock_view(cursor: Any, sku: str, batches: list[tuple[Any, ...]], position: int) -> None:
    """The stock's row and its batches' rows, one statement (id, reference, qty, alloc, eta)."""
    rows = ", ".join(
        ["(%s, %s, %s::int, %s::date, %s::bigint, %s::bigint, %s::bigint)"] * len(batches)
    )
    cursor.execute(
        "WITH applied AS (INSERT INTO stock_view VALUES (%s, %s, %s) ON CONFLICT (sku) DO UPDATE"
        " SET available = excluded.available, position = excluded.position"
        " WHERE stock_view.position <= excluded.position RETURNING 1)"
        " INSERT INTO batch_view (reference, sku, rank, eta, quantity, allocated, available)"
        f" SELECT * FROM (VALUES {rows}) AS given WHERE EXISTS (SELECT 1 FROM applied)"
        " ON CONFLICT (reference) DO UPDATE SET rank = excluded.rank, eta = excluded.eta,"
        " quantity = excluded.quantity, allocated = excluded.allocated,"
        " available = excluded.available",
        (
            sku,
            sum(q - a for _, _, q, a, _ in batches),
            position,
            *[v for n, (_, r, q, a, e) in enumerate(batches) for v in (r, sku, n, e, q, a, q - a)],
        ),
    )


def _order_view(cursor: Any, order_id: str, status: str, position: int) -> None:
    """The order's view and its entry in the customer's list, one statement."""
    document = json.dumps({"order_id": order_id, "customer_id": "c-1", "status": status,
                           "lines": [{"sku": "x", "quantity": 1}]})  # fmt: skip
    cursor.execute(
        "WITH applied AS (INSERT INTO order_view VALUES (%s, 'c-1', %s, %s, %s)"
        " ON CONFLICT (order_id) DO UPDATE SET status = excluded.status,"
        " document = excluded.document, position = excluded.position"
        " WHERE order_view.position <= excluded.position RETURNING 1)"
        " INSERT INTO customer_order_view SELECT 'c-1', %s, %s, 2549::bigint, 'EUR', %s::bigint,"
        " %s::bigint WHERE EXISTS (SELECT 1 FROM applied) ON CONFLICT (customer_id, order_id)"
        " DO UPDATE SET status = excluded.status, total_amount = excluded.total_amount,"
        " total_currency = excluded.total_currency, position = excluded.position"
        " WHERE customer_order_view.position <= excluded.position",
        (order_id, status, document, position, order_id, status, position, position),
    )


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
    """AddBatch: one read (sku, reference, stock, waiting lines), two writes, the event and
    the read models, in one transaction."""
    with transaction() as cursor:
        cursor.execute(
            "SELECT p.sku, EXISTS (SELECT 1 FROM batches WHERE reference = %s), (SELECT"
            " min(l.quantity) FROM order_lines l JOIN orders o ON l.order_pk = o.id"
            " WHERE l.sku = p.sku AND l.batch_reference IS NULL AND o.status = 'backordered'),"
            " s.version FROM products p LEFT JOIN stocks s ON s.sku = p.sku WHERE p.sku = %s",
            (reference, sku),
        )
        _, taken, _, version = cursor.fetchone()
        assert not taken
        cursor.execute(
            "INSERT INTO batches (reference, sku, quantity, eta, allocated)"
            " VALUES (%s, %s, 1000, NULL, 0) RETURNING id",
            (reference, sku),
        )
        cursor.execute(
            "UPDATE stocks SET version = %s WHERE sku = %s AND version = %s",
            (version + 1, sku, version),
        )
        added = {"reference": reference, "sku": sku, "quantity": 1000, "eta": None}
        (position,) = _log(cursor, envelope("BatchAdded", added))
        cursor.execute(
            "WITH applied AS (INSERT INTO stock_view VALUES (%s, 1000, %s) ON CONFLICT (sku)"
            " DO UPDATE SET available = stock_view.available + excluded.available,"
            " position = excluded.position WHERE stock_view.position < excluded.position"
            " RETURNING 1) INSERT INTO batch_view (reference, sku, rank, eta, quantity,"
            " allocated, available) SELECT %s, %s, 0, NULL::date, 1000::bigint, 0::bigint,"
            " 1000::bigint WHERE EXISTS (SELECT 1 FROM applied) ON CONFLICT (reference)"
            " DO NOTHING",
            (sku, position, reference, sku),
        )


def _load_order(cursor: Any, order_id: str) -> list[Any]:
    cursor.execute(
        "SELECT o.id, o.version, l.id, l.quantity, l.sku, l.batch_reference FROM orders o"
        " JOIN order_lines l ON l.order_pk = o.id WHERE o.order_id = %s ORDER BY l.id",
        (order_id,),
    )
    return list(cursor.fetchall())


def place_by_hand(transaction: Transaction, order_id: str, sku: str) -> None:
    """PlaceOrder, then its allocation: two transactions, each with its events and views."""
    placed_event = envelope("OrderPlaced", {"order_id": order_id, "lines": [{"sku": sku}]})
    with transaction() as cursor:
        order_pk, order_version = _load_order(cursor, order_id)[0][:2]
        cursor.execute(
            "UPDATE orders SET status = 'placed', version = %s WHERE id = %s AND version = %s",
            (order_version + 1, order_pk, order_version),
        )
        revised = envelope("OrderRevised", {"order_id": order_id, "status": "placed"})
        _, position = _log(cursor, placed_event, revised)
        _order_view(cursor, order_id, "placed", position)
    with transaction() as cursor:
        cursor.execute(
            "INSERT INTO processed_messages (message_id, handler, processed_at)"
            " VALUES (%s, 'allocate', now()) ON CONFLICT DO NOTHING RETURNING message_id",
            (placed_event["message_id"],),
        )
        assert cursor.fetchone() is not None
        lines = _load_order(cursor, order_id)
        order_pk, order_version, line_id, quantity = lines[0][:4]
        version, batches = _batches(cursor, sku)
        index, taken = next((n, b) for n, b in enumerate(batches) if b[2] - b[3] >= quantity)
        cursor.execute(
            "UPDATE batches SET allocated = %s WHERE id = %s", (taken[3] + quantity, taken[0])
        )
        batches[index] = (*taken[:3], taken[3] + quantity, taken[4])
        cursor.execute(
            "UPDATE order_lines SET batch_reference = %s, allocation_seq = coalesce((SELECT"
            " max(e.allocation_seq) FROM order_lines e WHERE e.batch_reference = %s), 0) + 1"
            " WHERE id = %s RETURNING allocation_seq",
            (taken[1], taken[1], line_id),
        )
        cursor.execute(
            "UPDATE orders SET status = 'confirmed', version = %s WHERE id = %s AND version = %s",
            (order_version + 1, order_pk, order_version),
        )
        cursor.execute(
            "UPDATE stocks SET version = %s WHERE sku = %s AND version = %s",
            (version + 1, sku, version),
        )
        allocated = {"order_id": order_id, "sku": sku, "quantity": quantity,
                     "batch_reference": taken[1]}  # fmt: skip
        revised = envelope("OrderRevised", {"order_id": order_id, "status": "confirmed"})
        positions = _log(
            cursor,
            envelope("LineAllocated", allocated),
            _stock_revised(sku, batches),
            envelope("OrderConfirmed", {"order_id": order_id}),
            revised,
        )
        _order_view(cursor, order_id, "confirmed", positions[3])
        _stock_view(cursor, sku, batches, positions[1])


def timed(run: Callable[[int], None], count: int) -> list[float]:
    """Seconds of each of ``count`` calls."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        run(n)
        times.append(time.perf_counter() - started)
    return times


def prepare(shop: Shop) -> None:
    """Products and stocks for every path, and draft orders to place."""
    for sku in [f"{path}-{n}" for path in ("BUS", "CORE", "HAND") for n in range(SKUS)]:
        shop.bus.handle(c.AddProduct(sku=sku, name="Lamp", price=Money.of(2_000, "EUR")))
        shop.bus.handle(c.AddBatch(reference=f"first-{sku}", sku=sku, quantity=1_000_000))
    for path in ("BUS", "CORE", "HAND"):
        for n in range(SKUS):
            count = ROUNDS * PER_ROUND // SKUS + 1
            place_orders(shop, f"{path}-{n}", count, sku=f"{path}-{n}", placed=False)
    with shop.engine.connect() as connection:
        # Statistics, as autovacuum gathers them within a minute of a bulk load: planned with
        # those of the empty tables, reads that join orders scan all of them (both paths).
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


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


def main() -> dict[str, float]:
    """Alternate the three paths round by round, then report each and return the ratios."""
    with fresh_database() as url:
        shop = wired(url)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            prepare(shop)
            times = {(path, op): [] for path in PATHS for op in ("batch", "place")}
            with psycopg.connect(dsn) as connection:
                by_hand = {
                    "CORE": engine_transaction(shop.engine),
                    "HAND": psycopg_transaction(connection),
                }
                gc.collect()
                for r in range(ROUNDS):
                    order = PATHS[r % len(PATHS) :] + PATHS[: r % len(PATHS)]  # none always first
                    for path in order:
                        for op in ("batch", "place"):
                            step = _step(shop, by_hand, path, op, r * PER_ROUND)
                            times[path, op] += timed(step, PER_ROUND)
        finally:
            shop.close()
    warm = PER_ROUND  # the first round warms up
    ratios = {}
    for op, name, figure in (
        ("batch", "add batch", "add batch"),
        ("place", "place + allocate", "place+allocate"),
    ):
        print(f"   {name}")
        bus = report("bus + uow", times["BUS", op][warm:])
        core = report("sqlalchemy", times["CORE", op][warm:])  # engine + pool checkout
        floor = report("psycopg", times["HAND", op][warm:])
        print(f"   ratio        {bus / floor:8.2f} x the floor (goal <= 2.5)")
        print(f"   sqlalchemy's engine alone, same SQL: {core / floor:.2f} x the floor")
        ratios[f"{figure} bus+uow/psycopg"] = bus / floor
        ratios[f"{figure} sqlalchemy/psycopg"] = core / floor
    return ratios


PATHS = ("BUS", "CORE", "HAND")


def _step(
    shop: Shop, by_hand: dict[str, Transaction], path: str, op: str, base: int
) -> Callable[[int], None]:
    """The n-th command of one path and operation in a round starting at ``base``."""

    def step(n: int) -> None:
        sku = f"{path}-{(base + n) % SKUS}"
        if op == "batch" and path == "BUS":
            shop.bus.handle(c.AddBatch(reference=f"bus-{base + n}", sku=sku, quantity=1000))
        elif op == "batch":
            add_batch_by_hand(by_hand[path], f"{path}-{base + n}", sku)
        elif path == "BUS":
            shop.bus.handle(c.PlaceOrder(order_id=order_for(path, base + n)[0]))
        else:
            place_by_hand(by_hand[path], *order_for(path, base + n))

    return step


if __name__ == "__main__":
    main()
