"""The floor of ``bench.http``: a bare Flask app issuing the shop's SQL by hand through psycopg.

Each endpoint runs the statements and transactions the shop runs for the same request (read
the aggregate, write it, write the outbox and the read-model rows in the same transaction;
a reaction across aggregates claims its inbox row first, in its own transaction; answers are
built from what was written), on tables of its own, with none of the layers: no ORM, no bus,
no cattrs. Run: ``python -m bench.http_floor URL PORT``.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from typing import Any

import psycopg
from flask import Flask, request
from gunicorn.app.base import BaseApplication

SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_stocks (sku text PRIMARY KEY, version int NOT NULL);
CREATE TABLE IF NOT EXISTS floor_batches (reference text PRIMARY KEY, sku text NOT NULL,
    quantity int NOT NULL, allocated int NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS floor_orders (order_id text PRIMARY KEY, customer_id text NOT NULL,
    status text NOT NULL, total bigint NOT NULL DEFAULT 0, version int NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS floor_lines (order_id text, sku text, quantity int NOT NULL,
    batch_reference text, PRIMARY KEY (order_id, sku));
CREATE TABLE IF NOT EXISTS floor_outbox (id bigserial PRIMARY KEY, message_id text UNIQUE,
    envelope text NOT NULL, handled_at timestamptz);
CREATE TABLE IF NOT EXISTS floor_inbox (message_id text, handler text,
    PRIMARY KEY (message_id, handler));
CREATE TABLE IF NOT EXISTS floor_order_view (order_id text PRIMARY KEY, document text NOT NULL,
    position bigint NOT NULL);
CREATE TABLE IF NOT EXISTS floor_customer_orders (customer_id text, order_id text,
    status text, position bigint, PRIMARY KEY (customer_id, order_id));
CREATE TABLE IF NOT EXISTS floor_stock_view (sku text PRIMARY KEY, available bigint NOT NULL,
    position bigint NOT NULL);
CREATE TABLE IF NOT EXISTS floor_batch_view (reference text PRIMARY KEY, sku text NOT NULL,
    quantity int NOT NULL, allocated int NOT NULL, available int NOT NULL);
"""

app = Flask("floor")
_local = threading.local()
CONNINFO = ""


def connection() -> psycopg.Connection[Any]:
    """This thread's connection."""
    found = getattr(_local, "connection", None)
    if found is None:
        found = _local.connection = psycopg.connect(CONNINFO)
    return found


def _outbox(cursor: psycopg.Cursor[Any], *payloads: dict[str, Any]) -> list[tuple[str, int]]:
    """Write the events in one statement; (message id, log position) of each, in order."""
    ids = [str(uuid.uuid4()) for _ in payloads]
    values = ", ".join(["(%s, %s)"] * len(payloads))
    cursor.execute(  # and, as `shop api` does for a standalone relay, NOTIFY in the same statement
        f"WITH written AS (INSERT INTO floor_outbox (message_id, envelope) VALUES {values}"
        " RETURNING message_id, id) SELECT written.message_id, written.id FROM written,"
        " (SELECT pg_notify('floor_outbox', '')) AS woken",
        [v for i, p in zip(ids, payloads, strict=True) for v in (i, json.dumps(p))],
    )
    positions = dict(cursor.fetchall())
    return [(i, positions[i]) for i in ids]


def _reaction(event: tuple[str, int], name: str, work: Any) -> None:
    """A reaction across aggregates: its own transaction, inbox row claimed first."""
    message_id, _ = event
    db = connection()
    with db.transaction(), db.cursor() as cursor:
        cursor.execute(
            "INSERT INTO floor_inbox VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING message_id",
            (message_id, name),
        )
        if cursor.fetchone() is not None:
            work(cursor)


def _order_view(
    cursor: psycopg.Cursor[Any], order_id: str, customer_id: str, status: str, position: int
) -> dict[str, Any]:
    """The order's view and list entry, inline; returns the document (the answer)."""
    document = {"order_id": order_id, "customer_id": customer_id, "status": status}
    cursor.execute(
        "WITH applied AS (INSERT INTO floor_order_view VALUES (%s, %s, %s) ON CONFLICT (order_id)"
        " DO UPDATE SET document=excluded.document, position=excluded.position"
        " WHERE floor_order_view.position <= excluded.position RETURNING 1)"
        " INSERT INTO floor_customer_orders SELECT %s, %s, %s, %s::bigint"
        " WHERE EXISTS (SELECT 1 FROM applied) ON CONFLICT (customer_id, order_id)"
        " DO UPDATE SET status=excluded.status",
        (order_id, json.dumps(document), position, customer_id, order_id, status, position),
    )
    return document


def _stock_view(
    cursor: psycopg.Cursor[Any], sku: str, batches: list[tuple[str, int, int]], position: int
) -> None:
    """The stock's view and its batches' rows, inline."""
    available = sum(q - a for _, q, a in batches)
    rows = ", ".join(["(%s, %s, %s::int, %s::int, %s::int)"] * len(batches))
    cursor.execute(
        "WITH applied AS (INSERT INTO floor_stock_view VALUES (%s, %s, %s) ON CONFLICT (sku)"
        " DO UPDATE SET available=excluded.available, position=excluded.position"
        " WHERE floor_stock_view.position <= excluded.position RETURNING 1)"
        f" INSERT INTO floor_batch_view SELECT * FROM (VALUES {rows}) AS given"
        " WHERE EXISTS (SELECT 1 FROM applied) ON CONFLICT (reference) DO UPDATE"
        " SET quantity=excluded.quantity, allocated=excluded.allocated,"
        " available=excluded.available",
        (sku, available, position, *[v for r, q, a in batches for v in (r, sku, q, a, q - a)]),
    )


@app.post("/batches")
def add_batch() -> Any:
    """The shop's ``POST /batches``."""
    body = request.get_json()
    reference, sku, quantity = body["reference"], body["sku"], body["quantity"]
    db = connection()
    with db.transaction(), db.cursor() as cursor:
        cursor.execute(
            "SELECT s.version, EXISTS (SELECT 1 FROM floor_batches WHERE reference=%s),"
            " (SELECT min(l.quantity) FROM floor_orders o JOIN floor_lines l"
            " ON l.order_id=o.order_id WHERE o.status='backordered' AND l.sku=%s"
            " AND l.batch_reference IS NULL) FROM (SELECT 1) AS one"
            " LEFT JOIN floor_stocks s ON s.sku=%s",
            (reference, sku, sku),
        )
        cursor.execute(
            "INSERT INTO floor_stocks VALUES (%s, 1) ON CONFLICT (sku) DO UPDATE"
            " SET version=floor_stocks.version+1",
            (sku,),
        )
        cursor.execute(
            "INSERT INTO floor_batches VALUES (%s, %s, %s, 0)", (reference, sku, quantity)
        )
        ((_, position),) = _outbox(cursor, body)
        cursor.execute(
            "WITH applied AS (INSERT INTO floor_stock_view VALUES (%s, %s, %s) ON CONFLICT (sku)"
            " DO UPDATE SET available=floor_stock_view.available+excluded.available,"
            " position=excluded.position WHERE floor_stock_view.position < excluded.position"
            " RETURNING 1) INSERT INTO floor_batch_view SELECT %s, %s, %s::int, 0, %s::int"
            " WHERE EXISTS (SELECT 1 FROM applied) ON CONFLICT (reference) DO NOTHING",
            (sku, quantity, position, reference, sku, quantity, quantity),
        )
    return {"reference": reference}, 201


@app.post("/orders")
def create_order() -> Any:
    """The shop's ``POST /orders``."""
    customer_id = request.get_json()["customer_id"]
    order_id = str(uuid.uuid4())
    db = connection()
    with db.transaction(), db.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM floor_customer_orders WHERE customer_id=%s LIMIT 1", (customer_id,)
        )
        cursor.execute("SELECT order_id FROM floor_orders WHERE order_id=%s", (order_id,))
        cursor.execute(
            "INSERT INTO floor_orders (order_id, customer_id, status) VALUES (%s, %s, 'draft')",
            (order_id, customer_id),
        )
        _, (_, position) = _outbox(cursor, {"order_id": order_id}, {"order_id": order_id})
        _order_view(cursor, order_id, customer_id, "draft", position)
    return {"order_id": order_id}, 201, {"Location": f"/orders/{order_id}"}


def _change_order(order_id: str, statements: list[tuple[str, tuple[Any, ...]]]) -> Any:
    db = connection()
    with db.transaction(), db.cursor() as cursor:
        cursor.execute(
            "SELECT o.customer_id, o.version, l.sku FROM floor_orders o LEFT JOIN floor_lines l"
            " ON l.order_id=o.order_id WHERE o.order_id=%s",
            (order_id,),
        )
        customer_id = cursor.fetchall()[0][0]
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
        ((_, position),) = _outbox(cursor, {"order_id": order_id})
        return _order_view(cursor, order_id, customer_id, "draft", position)


@app.post("/orders/<order_id>/lines")
def add_line(order_id: str) -> Any:
    """The shop's ``POST /orders/<id>/lines``."""
    body = request.get_json()
    return _change_order(
        order_id,
        [
            ("SELECT sku FROM floor_stocks WHERE sku=%s", (body["sku"],)),
            ("UPDATE floor_orders SET version=version+1 WHERE order_id=%s", (order_id,)),
            (
                "INSERT INTO floor_lines VALUES (%s, %s, %s, NULL)",
                (order_id, body["sku"], body["quantity"]),
            ),
        ],
    ), 201


@app.put("/orders/<order_id>/shipping-address")
def set_address(order_id: str) -> Any:
    """The shop's ``PUT /orders/<id>/shipping-address``."""
    request.get_json()
    update = "UPDATE floor_orders SET version=version+1 WHERE order_id=%s"
    return _change_order(order_id, [(update, (order_id,))])


@app.post("/orders/<order_id>/place")
def place(order_id: str) -> Any:
    """The shop's ``POST /orders/<id>/place``, allocation and views included."""
    db = connection()
    with db.transaction(), db.cursor() as cursor:
        cursor.execute("SELECT customer_id FROM floor_orders WHERE order_id=%s", (order_id,))
        customer_id = cursor.fetchone()[0]  # type: ignore[index]
        cursor.execute(
            "UPDATE floor_orders SET status='placed', version=version+1 WHERE order_id=%s",
            (order_id,),
        )
        placed, (_, position) = _outbox(cursor, {"order_id": order_id}, {"order_id": order_id})
        found = {"document": _order_view(cursor, order_id, customer_id, "placed", position)}

    def allocate(cursor: psycopg.Cursor[Any]) -> None:
        cursor.execute(
            "SELECT l.sku, l.quantity FROM floor_orders o JOIN floor_lines l"
            " ON l.order_id=o.order_id WHERE o.order_id=%s",
            (order_id,),
        )
        sku, quantity = cursor.fetchall()[0]
        cursor.execute(
            "SELECT s.version, b.reference, b.quantity, b.allocated FROM floor_stocks s"
            " JOIN floor_batches b ON b.sku=s.sku WHERE s.sku=%s",
            (sku,),
        )
        _, reference, total, allocated = cursor.fetchall()[0]
        cursor.execute(
            "UPDATE floor_batches SET allocated=allocated+%s WHERE reference=%s",
            (quantity, reference),
        )
        cursor.execute(
            "UPDATE floor_lines SET batch_reference=%s WHERE order_id=%s AND sku=%s",
            (reference, order_id, sku),
        )
        cursor.execute(
            "UPDATE floor_orders SET status='confirmed', version=version+1 WHERE order_id=%s",
            (order_id,),
        )
        cursor.execute("UPDATE floor_stocks SET version=version+1 WHERE sku=%s", (sku,))
        written = _outbox(cursor, *({"order_id": order_id} for _ in range(4)))
        found["document"] = _order_view(cursor, order_id, customer_id, "confirmed", written[3][1])
        _stock_view(cursor, sku, [(reference, total, allocated + quantity)], written[1][1])

    _reaction(placed, "allocate", allocate)
    return found["document"], 202


class FloorApplication(BaseApplication):  # type: ignore[misc]
    """The floor app under gunicorn, with the shop's gunicorn options."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return app


def main(url: str, port: int) -> None:
    """Create the floor's tables and serve it like ``shop api --workers 2``."""
    global CONNINFO
    CONNINFO = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(CONNINFO, autocommit=True) as db:
        db.execute(SCHEMA)
    options = {
        "bind": f"127.0.0.1:{port}",
        "workers": 2,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 30,
        "accesslog": "-",
        "loglevel": "warning",
    }
    FloorApplication(options).run()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
