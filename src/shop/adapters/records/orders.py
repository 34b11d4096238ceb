"""An order and its lines as rows: read in one statement, written by difference."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update
from sqlalchemy.sql import Select

from seedwork.sqlalchemy.direct import Direct
from shop.adapters.records import Record, Row, bump, folds
from shop.adapters.tables import order_lines, orders
from shop.domain.money import Money
from shop.domain.ordering import Address, Order, OrderLine

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

_ORDER_BY_ID: Select[Any] = (
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
ORDER_BY_ID = Direct(_ORDER_BY_ID)
_INSERT_ORDER = Direct(
    insert(orders)
    .values({name: bindparam(name) for name in (*_ORDER_COLUMNS, "version")})
    .returning(orders.c.id)
)
_ORDER_ROW = (
    update(orders)
    .where(orders.c.id == bindparam("key"), orders.c.version == bindparam("read_version"))
    .values({name: bindparam(name) for name in (*_ORDER_COLUMNS, "version")})
)
_UPDATE_ORDER = Direct(_ORDER_ROW)
_INSERT_LINE = Direct(
    insert(order_lines).values(
        {name: bindparam(name) for name in ("order_pk", "sku", *_LINE_COLUMNS)}
    )
)
_line_key = (order_lines.c.order_pk == bindparam("pk"), order_lines.c.sku == bindparam("key"))
_UPDATE_LINE = Direct(
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
_ALLOCATE_LINE = Direct(update(order_lines).where(*_line_key).values(_ALLOCATION))
_DELETE_LINE = Direct(order_lines.delete().where(*_line_key))
_BUMPED_ORDER = _ORDER_ROW.returning(orders.c.id).cte("bumped")
_BUMP_AND_ALLOCATE_LINE = Direct(
    update(order_lines)
    .where(order_lines.c.order_pk == _BUMPED_ORDER.c.id, order_lines.c.sku == bindparam("part"))
    .values(_ALLOCATION)
)
_BUMP_AND_UPDATE_LINE = Direct(
    update(order_lines)
    .where(order_lines.c.order_pk == _BUMPED_ORDER.c.id, order_lines.c.sku == bindparam("part"))
    .values({name: bindparam(name) for name in _LINE_COLUMNS})
)
_BUMP_AND_INSERT_LINE = Direct(
    insert(order_lines)
    .from_select(
        ["order_pk", "sku", *_LINE_COLUMNS],
        select(
            _BUMPED_ORDER.c.id,
            bindparam("part", type_=order_lines.c.sku.type),
            *(bindparam(name, type_=order_lines.c[name].type) for name in _LINE_COLUMNS),
        ),
    )
    .execution_options(preserve_rowcount=True)  # it tells whether the bump happened
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
    pk = _INSERT_ORDER.run(connection, {**root, "version": 1}).scalar_one()
    record = Record(key=pk, version=1, root=root, parts={})
    _write_lines(connection, order, record)
    return record


def write_order(
    connection: Connection, order: Order, record: Record, recorded: bool = False
) -> None:
    """Write what changed in ``order`` since ``record`` (which is brought up to date); with
    ``recorded`` (it wrote events), a new version even if nothing else changed."""
    root = _order_row(order)
    lines = {line.sku: _line_row(line) for line in order.lines}
    moved = _moved(record.parts, lines)
    unchanged = root == record.root and lines == record.parts and not moved
    if unchanged and order.version == record.version and not recorded:
        return
    record.root = root
    folded = _one_line_change(record.parts, lines) if folds(connection) and not moved else None
    if folded is None:
        bump(connection, _UPDATE_ORDER, order, record)
        if moved:  # written again, after the others: rows are read back in the order written
            _DELETE_LINE.run_each(connection, [{"pk": record.key, "key": sku} for sku in moved])
            record.parts = {sku: row for sku, row in record.parts.items() if sku not in moved}
        _write_lines(connection, order, record, lines)
    else:  # one line added or changed, nothing else of the lines: one statement
        statement, parameters = folded
        bump(connection, statement, order, record, parameters)
        record.parts = lines


def _moved(read: dict[Any, Row], lines: dict[Any, Row]) -> list[Any]:
    """The lines read that no longer keep their place among the others read (one removed
    and added again, now last), from the first out of place on: lines are read back in the
    order their rows were inserted."""
    kept = [sku for sku in read if sku in lines]
    now = [sku for sku in lines if sku in read]
    for n, (before, after) in enumerate(zip(kept, now, strict=True)):
        if before != after:
            return now[n:]
    return []


def _one_line_change(read: dict[Any, Row], lines: dict[Any, Row]) -> tuple[Direct, Row] | None:
    """The statement that writes the lines' only change with the root's bump, and its
    parameters: a line added (holding no batch), a line's batch, or its other columns."""
    changed = [sku for sku, row in lines.items() if row != read.get(sku)]
    if len(changed) != 1 or not read.keys() <= lines.keys():
        return None
    (sku,) = changed
    row, before = lines[sku], read.get(sku)
    if before is None:
        if row["batch_reference"] is not None or len(lines) != len(read) + 1:
            return None
        return _BUMP_AND_INSERT_LINE, {"part": sku, **_columns(row, _LINE_COLUMNS)}
    if len(lines) != len(read):
        return None
    if row["batch_reference"] == before["batch_reference"]:
        return _BUMP_AND_UPDATE_LINE, {"part": sku, **_columns(row, _LINE_COLUMNS)}
    if any(row[name] != before[name] for name in _LINE_COLUMNS):
        return None
    return _BUMP_AND_ALLOCATE_LINE, {"part": sku, "reference": row["batch_reference"]}


def _write_lines(
    connection: Connection, order: Order, record: Record, lines: dict[Any, Row] | None = None
) -> None:
    if lines is None:
        lines = {line.sku: _line_row(line) for line in order.lines}
    pk = record.key
    for sku in record.parts.keys() - lines.keys():
        _DELETE_LINE.run(connection, {"pk": pk, "key": sku})
    added = [sku for sku in lines if sku not in record.parts]
    if added:
        rows = [{"order_pk": pk, "sku": sku, **_columns(lines[sku], _LINE_COLUMNS)}
                for sku in added]  # fmt: skip
        _INSERT_LINE.run_each(connection, rows)
    for sku, row in lines.items():
        read = record.parts.get(sku, {"batch_reference": None} if sku in added else None)
        if read is None or row == read:
            continue
        key = {"pk": pk, "key": sku}
        if any(row[name] != read.get(name) for name in _LINE_COLUMNS) and sku not in added:
            _UPDATE_LINE.run(connection, {**key, **_columns(row, _LINE_COLUMNS)})
        if row["batch_reference"] != read["batch_reference"]:
            _ALLOCATE_LINE.run(connection, {**key, "reference": row["batch_reference"]})
    record.parts = lines


def _columns(row: Row, names: Sequence[str]) -> Row:
    return {name: row[name] for name in names}
