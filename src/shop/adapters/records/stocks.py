"""A stock and its batches as rows: read in one statement, written by difference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.sql import Select

from seedwork.sqlalchemy.direct import Direct
from shop.adapters.records import Record, Row, bump, folds
from shop.adapters.tables import batches, stocks
from shop.domain.inventory import Batch, Stock
from shop.domain.kernel import Sku

_BATCH_COLUMNS = ("quantity", "eta", "allocated")

_STOCK_BY_SKU: Select[Any] = (
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
STOCK_BY_SKU = Direct(_STOCK_BY_SKU)
STOCK_BY_BATCH = Direct(
    select(*_STOCK_BY_SKU.selected_columns)
    .select_from(stocks.outerjoin(batches, batches.c.sku == stocks.c.sku))
    .where(stocks.c.sku == _BATCH_SKU.scalar_subquery())
    .order_by(batches.c.id)
)
_INSERT_STOCK = Direct(insert(stocks).values(sku=bindparam("sku"), version=bindparam("version")))
_STOCK_VERSION = (
    update(stocks)
    .where(stocks.c.sku == bindparam("key"), stocks.c.version == bindparam("read_version"))
    .values(version=bindparam("version"))
)
_BUMP_STOCK = Direct(_STOCK_VERSION)
_INSERT_BATCH = Direct(
    insert(batches).values({n: bindparam(n) for n in ("reference", "sku", *_BATCH_COLUMNS)})
)
_UPDATE_BATCH = Direct(
    update(batches)
    .where(batches.c.reference == bindparam("key"))
    .values({name: bindparam(name) for name in _BATCH_COLUMNS})
)


# On PostgreSQL the version bump and the first part's write share one statement (a data-modifying
# WITH): the part is written only if the root was still as read, so the statement's row count
# says both whether it conflicted and whether the part was written. SQLite has no such WITH.
_BUMPED_STOCK = _STOCK_VERSION.returning(stocks.c.sku).cte("bumped")
_BUMP_AND_UPDATE_BATCH = Direct(
    update(batches)
    .where(batches.c.reference == bindparam("part"), batches.c.sku == _BUMPED_STOCK.c.sku)
    .values({name: bindparam(name) for name in _BATCH_COLUMNS})
)
_BUMP_AND_INSERT_BATCH = Direct(
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
    _INSERT_STOCK.run(connection, {"sku": stock.sku, "version": 1})
    rows = {batch.reference: _batch_row(batch) for batch in stock.batches}
    if rows:
        _insert_batches(connection, stock.sku, rows)
    return Record(key=stock.sku, version=1, root={}, parts=rows)


def _insert_batches(connection: Connection, sku: str, rows: Mapping[Any, Row]) -> None:
    _INSERT_BATCH.run_each(
        connection, [{"reference": ref, "sku": sku, **row} for ref, row in rows.items()]
    )


def write_stock(
    connection: Connection, stock: Stock, record: Record, recorded: bool = False
) -> None:
    """Write what changed in ``stock`` since ``record`` (which is brought up to date); with
    ``recorded`` (it wrote events), a new version even if nothing else changed."""
    added: dict[str, Row] = {}
    changed: dict[str, Row] = {}
    for batch in stock.batches:
        row = _batch_row(batch)
        read = record.parts.get(batch.reference)
        if read is None:
            added[batch.reference] = row
        elif row != read:
            changed[batch.reference] = row
    if not (added or changed or recorded or stock.version != record.version):
        return
    record.parts.update(added)
    record.parts.update(changed)
    if not folds(connection):
        bump(connection, _BUMP_STOCK, stock, record)
    elif added:  # adding a batch: the commonest write of all
        reference = next(iter(added))
        row = added.pop(reference)
        bump(connection, _BUMP_AND_INSERT_BATCH, stock, record, {"part": reference, **row})
    elif changed:
        reference = next(iter(changed))
        row = changed.pop(reference)
        bump(connection, _BUMP_AND_UPDATE_BATCH, stock, record, {"part": reference, **row})
    else:
        bump(connection, _BUMP_STOCK, stock, record)
    if added:
        _insert_batches(connection, stock.sku, added)
    for reference, row in changed.items():
        _UPDATE_BATCH.run(connection, {"key": reference, **row})
