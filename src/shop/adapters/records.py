"""Orders and stocks as table rows: loaded with Core statements, written back by difference.

The two aggregates every business operation touches are not mapped by the ORM. A repository
builds them from the rows of one SELECT, keeps what it read (a ``Record``: the root's row, its
version and its parts' rows by identity), and at commit compares each aggregate with its record
and writes only what changed: the root's version, bumped with ``WHERE version = <as read>`` so
a concurrent change conflicts (``ConcurrencyConflict``), then the parts inserted, updated or
deleted. The statements are built once; writing one changed batch costs two statements and a
few hundred Python calls, where the ORM's flush cost thousands. See docs/adr/0013.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, bindparam, case, func, insert, select, update
from sqlalchemy.sql import Delete, Insert, Select, Update

from seedwork.core.errors import ConcurrencyConflict
from shop.adapters.tables import batches, order_lines, orders, stocks
from shop.domain.inventory import Batch, Stock
from shop.domain.kernel import Sku
from shop.domain.money import Money
from shop.domain.ordering import Address, Order, OrderLine

Row = dict[str, Any]


@attrs.define
class Record:
    """What was read of one aggregate: its root's row and version, its parts' rows by key.

    ``key`` is the root's row key (the order's surrogate id; the stock's sku). ``complete`` is
    False when the parts were not read (a stock loaded to receive a new batch): then only new
    parts are written, none is compared."""

    key: Any
    version: int
    root: Row
    parts: dict[Any, Row]
    complete: bool = True


# -- stocks ------------------------------------------------------------------------------------

_BATCH_COLUMNS = ("quantity", "eta", "allocated")

STOCK_BY_SKU: Select[Any] = (
    select(
        stocks.c.sku,
        stocks.c.version,
        batches.c.reference,
        batches.c.quantity,
        batches.c.eta,
        batches.c.allocated,
    )
    .select_from(stocks.outerjoin(batches, batches.c.sku == stocks.c.sku))
    .where(stocks.c.sku == bindparam("sku"))
    .order_by(batches.c.id)
)
_BATCH_SKU = select(batches.c.sku).where(batches.c.reference == bindparam("reference"))
STOCK_BY_BATCH: Select[Any] = (
    select(*STOCK_BY_SKU.selected_columns)
    .select_from(stocks.outerjoin(batches, batches.c.sku == stocks.c.sku))
    .where(stocks.c.sku == _BATCH_SKU.scalar_subquery())
    .order_by(batches.c.id)
)
_INSERT_STOCK: Insert = insert(stocks).values(sku=bindparam("sku"), version=bindparam("version"))
_BUMP_STOCK: Update = (
    update(stocks)
    .where(stocks.c.sku == bindparam("key"), stocks.c.version == bindparam("read_version"))
    .values(version=bindparam("version"))
)
_INSERT_BATCH: Insert = insert(batches)
_UPDATE_BATCH: Update = (
    update(batches)
    .where(batches.c.reference == bindparam("key"))
    .values({name: bindparam(name) for name in _BATCH_COLUMNS})
)


# On PostgreSQL the version bump and the first part's write share one statement (a data-modifying
# WITH): the part is written only if the root was still as read, so the statement's row count
# says both whether it conflicted and whether the part was written. SQLite has no such WITH.
_BUMPED_STOCK = _BUMP_STOCK.returning(stocks.c.sku).cte("bumped")
_BUMP_AND_UPDATE_BATCH: Update = (
    update(batches)
    .where(batches.c.reference == bindparam("part"), batches.c.sku == _BUMPED_STOCK.c.sku)
    .values({name: bindparam(name) for name in _BATCH_COLUMNS})
)
_BUMP_AND_INSERT_BATCH: Insert = (
    insert(batches)
    .from_select(
        ["reference", "sku", *_BATCH_COLUMNS],
        select(
            bindparam("part", type_=batches.c.reference.type),
            _BUMPED_STOCK.c.sku,
            *(bindparam(name, type_=batches.c[name].type) for name in _BATCH_COLUMNS),
        ),
    )
    # An INSERT's row count is not kept unless asked for: it tells whether the bump happened.
    .execution_options(preserve_rowcount=True)
)


def folds(connection: Connection) -> bool:
    """Whether a root's version bump and its first part's write can be one statement."""
    return connection.dialect.name == "postgresql"


def stock_from_rows(rows: Sequence[Any]) -> tuple[Stock, Record] | None:
    """The stock of rows from ``STOCK_BY_SKU`` (or ``STOCK_BY_BATCH``), or None for no rows."""
    if not rows:
        return None
    sku, version = rows[0][0], rows[0][1]
    parts: dict[Any, Row] = {}
    loaded = []
    for _, _, reference, quantity, eta, allocated in rows:
        if reference is None:  # a stock without batches: the outer join's one empty row
            continue
        loaded.append(Batch(reference, sku, quantity, eta, allocated))
        parts[reference] = {"quantity": quantity, "eta": eta, "allocated": allocated}
    stock = Stock(sku=sku, batches=loaded, version=version)
    return stock, Record(key=sku, version=version, root={}, parts=parts)


def stock_without_batches(sku: str, version: int) -> tuple[Stock, Record]:
    """A stock whose batches were not read: only batches added to it will be written."""
    stock = Stock(sku=Sku(sku), version=version)
    return stock, Record(key=sku, version=version, root={}, parts={}, complete=False)


def _batch_row(batch: Batch) -> Row:
    return {"quantity": batch.quantity, "eta": batch.eta, "allocated": batch.allocated}


def write_new_stock(connection: Connection, stock: Stock) -> Record:
    """Insert a stock and its batches; its record as now stored."""
    stock.version = 1
    connection.execute(_INSERT_STOCK, {"sku": stock.sku, "version": 1})
    rows = {batch.reference: _batch_row(batch) for batch in stock.batches}
    if rows:
        _insert_batches(connection, stock.sku, rows)
    return Record(key=stock.sku, version=1, root={}, parts=rows)


def _insert_batches(connection: Connection, sku: str, rows: Mapping[Any, Row]) -> None:
    connection.execute(
        _INSERT_BATCH, [{"reference": ref, "sku": sku, **row} for ref, row in rows.items()]
    )


def write_stock(connection: Connection, stock: Stock, record: Record) -> None:
    """Write what changed in ``stock`` since ``record`` (which is brought up to date)."""
    added: dict[str, Row] = {}
    changed: dict[str, Row] = {}
    for batch in stock.batches:
        row = _batch_row(batch)
        read = record.parts.get(batch.reference)
        if read is None:
            added[batch.reference] = row
        elif row != read:
            changed[batch.reference] = row
    if not (added or changed or stock.version != record.version):
        return
    record.parts.update(added)
    record.parts.update(changed)
    if not folds(connection):
        _bump(connection, _BUMP_STOCK, stock, record)
    elif added:  # adding a batch: the commonest write of all
        reference = next(iter(added))
        row = added.pop(reference)
        _bump(connection, _BUMP_AND_INSERT_BATCH, stock, record, {"part": reference, **row})
    elif changed:
        reference = next(iter(changed))
        row = changed.pop(reference)
        _bump(connection, _BUMP_AND_UPDATE_BATCH, stock, record, {"part": reference, **row})
    else:
        _bump(connection, _BUMP_STOCK, stock, record)
    if added:
        _insert_batches(connection, stock.sku, added)
    for reference, row in changed.items():
        connection.execute(_UPDATE_BATCH, {"key": reference, **row})


def _bump(
    connection: Connection,
    statement: Update | Insert,
    root: Order | Stock,
    record: Record,
    part: Row | None = None,
) -> None:
    """Move the root's row to its next version, or conflict if it is no longer as read;
    ``part``: the parameters of the part written in the same statement, if any.

    A root whose own rule moved its version (a stock deciding a line waits) keeps that one;
    otherwise a change to any part is a new version of the whole."""
    version = root.version if root.version != record.version else record.version + 1
    parameters = {**record.root, "key": record.key, "read_version": record.version}
    if part is not None:
        parameters.update(part)
    result = connection.execute(statement, {**parameters, "version": version})
    if result.rowcount != 1:
        raise ConcurrencyConflict(
            f"{type(root).__name__} {root.identity!r} changed since it was read"
        )
    root.version = record.version = version


# -- orders ------------------------------------------------------------------------------------

_ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "tier",
    "status",
    "street",
    "city",
    "postcode",
    "country",
    "tracking_number",
    "cancel_reason",
    *(f"{name}_{part}" for name in ("subtotal", "discount", "shipping_cost", "total")
      for part in ("amount", "currency")),
)  # fmt: skip
_LINE_COLUMNS = ("name", "quantity", "unit_price_amount", "unit_price_currency")

ORDER_BY_ID: Select[Any] = (
    select(
        orders.c.id,
        orders.c.version,
        *(orders.c[name] for name in _ORDER_COLUMNS),
        order_lines.c.sku,
        *(order_lines.c[name] for name in _LINE_COLUMNS),
        order_lines.c.batch_reference,
    )
    .select_from(orders.outerjoin(order_lines, order_lines.c.order_pk == orders.c.id))
    .where(orders.c.order_id == bindparam("order_id"))
    .order_by(order_lines.c.id)
)
_INSERT_ORDER: Insert = (
    insert(orders)
    .values({name: bindparam(name) for name in (*_ORDER_COLUMNS, "version")})
    .returning(orders.c.id)
)
_UPDATE_ORDER: Update = (
    update(orders)
    .where(orders.c.id == bindparam("key"), orders.c.version == bindparam("read_version"))
    .values({name: bindparam(name) for name in (*_ORDER_COLUMNS, "version")})
)
_INSERT_LINE: Insert = insert(order_lines).values(
    {name: bindparam(name) for name in ("order_pk", "sku", *_LINE_COLUMNS)}
)
_line_key = (order_lines.c.order_pk == bindparam("pk"), order_lines.c.sku == bindparam("key"))
_UPDATE_LINE: Update = (
    update(order_lines).where(*_line_key).values({n: bindparam(n) for n in _LINE_COLUMNS})
)
_earlier = order_lines.alias("earlier")
_NEXT_IN_BATCH = (
    func.coalesce(
        select(func.max(_earlier.c.allocation_seq))
        .where(_earlier.c.batch_reference == bindparam("reference"))
        .scalar_subquery(),
        0,
    )
    + 1
)
# A line taking a batch gets that batch's next allocation number, computed by the database in
# the same statement; a line giving its batch back loses its number. Two allocations on one
# batch never commit concurrently: both change its stock.
_ALLOCATION = {
    "batch_reference": bindparam("reference"),
    "allocation_seq": case((bindparam("reference").is_(None), None), else_=_NEXT_IN_BATCH),
}
_ALLOCATE_LINE: Update = update(order_lines).where(*_line_key).values(_ALLOCATION)
_DELETE_LINE: Delete = order_lines.delete().where(*_line_key)
_BUMPED_ORDER = _UPDATE_ORDER.returning(orders.c.id).cte("bumped")
_BUMP_AND_ALLOCATE_LINE: Update = (
    update(order_lines)
    .where(order_lines.c.order_pk == _BUMPED_ORDER.c.id, order_lines.c.sku == bindparam("part"))
    .values(_ALLOCATION)
)


def orders_from_rows(rows: Iterable[Any]) -> tuple[Order, Record] | None:
    """The order of rows from ``ORDER_BY_ID``, or None for no rows."""
    order: Order | None = None
    record: Record | None = None
    for row in rows:
        if order is None:
            order, record = _order(row)
        assert record is not None
        sku = row[2 + len(_ORDER_COLUMNS)]
        if sku is None:  # an order without lines: the outer join's one empty row
            continue
        name, quantity, amount, currency, batch_reference = row[3 + len(_ORDER_COLUMNS) :]
        order.lines.append(OrderLine(sku, name, quantity, Money(amount, currency), batch_reference))
        record.parts[sku] = {
            "name": name,
            "quantity": quantity,
            "unit_price_amount": amount,
            "unit_price_currency": currency,
            "batch_reference": batch_reference,
        }
    return None if order is None or record is None else (order, record)


def _order(row: Any) -> tuple[Order, Record]:
    pk, version = row[0], row[1]
    values = dict(zip(_ORDER_COLUMNS, row[2 : 2 + len(_ORDER_COLUMNS)], strict=True))
    street, city, postcode, country = (values[n] for n in ("street", "city", "postcode", "country"))
    address = None if street is None else Address(street, city, postcode, country)

    def money(name: str) -> Money:
        return Money(values[f"{name}_amount"], values[f"{name}_currency"])

    order = Order(
        order_id=values["order_id"],
        customer_id=values["customer_id"],
        tier=values["tier"],
        status=values["status"],
        shipping_address=address,
        tracking_number=values["tracking_number"],
        cancel_reason=values["cancel_reason"],
        subtotal=money("subtotal"),
        discount=money("discount"),
        shipping_cost=money("shipping_cost"),
        total=money("total"),
        version=version,
    )
    return order, Record(key=pk, version=version, root=values, parts={})


def _order_row(order: Order) -> Row:
    address = order.shipping_address
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "tier": order.tier,
        "status": order.status,
        "street": address.street if address else None,
        "city": address.city if address else None,
        "postcode": address.postcode if address else None,
        "country": address.country if address else None,
        "tracking_number": order.tracking_number,
        "cancel_reason": order.cancel_reason,
        "subtotal_amount": order.subtotal.amount,
        "subtotal_currency": order.subtotal.currency,
        "discount_amount": order.discount.amount,
        "discount_currency": order.discount.currency,
        "shipping_cost_amount": order.shipping_cost.amount,
        "shipping_cost_currency": order.shipping_cost.currency,
        "total_amount": order.total.amount,
        "total_currency": order.total.currency,
    }


def _line_row(line: OrderLine) -> Row:
    return {
        "name": line.name,
        "quantity": line.quantity,
        "unit_price_amount": line.unit_price.amount,
        "unit_price_currency": line.unit_price.currency,
        "batch_reference": line.batch_reference,
    }


def write_new_order(connection: Connection, order: Order) -> Record:
    """Insert an order and its lines; its record as now stored."""
    order.version = 1
    root = _order_row(order)
    pk = connection.execute(_INSERT_ORDER, {**root, "version": 1}).scalar_one()
    record = Record(key=pk, version=1, root=root, parts={})
    _write_lines(connection, order, record)
    return record


def write_order(connection: Connection, order: Order, record: Record) -> None:
    """Write what changed in ``order`` since ``record`` (which is brought up to date)."""
    root = _order_row(order)
    lines = {line.sku: _line_row(line) for line in order.lines}
    if root == record.root and lines == record.parts and order.version == record.version:
        return
    record.root = root
    taking = _one_allocation(record.parts, lines) if folds(connection) else None
    if taking is None:
        _bump(connection, _UPDATE_ORDER, order, record)
        _write_lines(connection, order, record, lines)
    else:  # a line takes or gives back a batch, nothing else: one statement
        sku, reference = taking
        parameters = {"part": sku, "reference": reference}
        _bump(connection, _BUMP_AND_ALLOCATE_LINE, order, record, parameters)
        record.parts = lines


def _one_allocation(read: dict[Any, Row], lines: dict[Any, Row]) -> tuple[Any, Any] | None:
    """(sku, batch reference) when the only change to the lines is one line's batch."""
    if read.keys() != lines.keys():
        return None
    changed = [sku for sku, row in lines.items() if row != read[sku]]
    if len(changed) != 1:
        return None
    (sku,) = changed
    row, before = lines[sku], read[sku]
    if any(row[name] != before[name] for name in _LINE_COLUMNS):
        return None
    return sku, row["batch_reference"]


def _write_lines(
    connection: Connection, order: Order, record: Record, lines: dict[Any, Row] | None = None
) -> None:
    if lines is None:
        lines = {line.sku: _line_row(line) for line in order.lines}
    pk = record.key
    for sku in record.parts.keys() - lines.keys():
        connection.execute(_DELETE_LINE, {"pk": pk, "key": sku})
    added = [sku for sku in lines if sku not in record.parts]
    if added:
        rows = [{"order_pk": pk, "sku": sku, **_columns(lines[sku], _LINE_COLUMNS)}
                for sku in added]  # fmt: skip
        connection.execute(_INSERT_LINE, rows)
    for sku, row in lines.items():
        read = record.parts.get(sku, {"batch_reference": None} if sku in added else None)
        if read is None or row == read:
            continue
        key = {"pk": pk, "key": sku}
        if any(row[name] != read.get(name) for name in _LINE_COLUMNS) and sku not in added:
            connection.execute(_UPDATE_LINE, {**key, **_columns(row, _LINE_COLUMNS)})
        if row["batch_reference"] != read["batch_reference"]:
            connection.execute(_ALLOCATE_LINE, {**key, "reference": row["batch_reference"]})
    record.parts = lines


def _columns(row: Row, names: Sequence[str]) -> Row:
    return {name: row[name] for name in names}
