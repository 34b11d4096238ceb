"""SQLAlchemy repositories of the shop's aggregates; each load is one round trip.

Products and customers are mapped by the ORM. Orders (with their lines) and stocks (with
their batches) are read and written with Core statements by ``shop.adapters.records``: they
change in every business operation, and the ORM's flush cost more than the database did.
Past allocations live on order lines and are only ever queried, never loaded with a stock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    bindparam,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapper, Session

from seedwork.core.errors import ConcurrencyConflict
from seedwork.sqlalchemy.direct import Direct
from shop.adapters.records import Record, write_all
from shop.adapters.records import orders as order_records
from shop.adapters.records import stocks as stock_records
from shop.adapters.tables import batches, order_lines, orders, products, stocks
from shop.domain.catalog import Product
from shop.domain.customers import Customer
from shop.domain.inventory import Stock
from shop.domain.kernel import BatchReference
from shop.domain.ordering import Order, OrderStatus
from shop.service_layer.unit_of_work import Receiving

# Statements are built once: a statement object memoizes its cache key, so executing it
# again skips that work. The statuses they ask about are constants in the SQL, not parameters:
# psycopg prepares a statement run often, and PostgreSQL's generic plan for a prepared one
# cannot see a parameter's value; the same SQL as the benchmarks' floor, too.
_BACKORDERED: ColumnElement[str] = literal_column(f"'{OrderStatus.BACKORDERED.value}'")
_SHIPPED: ColumnElement[str] = literal_column(f"'{OrderStatus.SHIPPED.value}'")
_WAITING = Direct(
    select(orders.c.order_id, order_lines.c.quantity)
    .join_from(order_lines, orders, order_lines.c.order_pk == orders.c.id)
    .where(
        order_lines.c.sku == bindparam("sku"),
        order_lines.c.batch_reference.is_(None),
        orders.c.status == _BACKORDERED,
    )
    .order_by(orders.c.id)
)
_ALLOCATED_TO_ROWS = (
    select(orders.c.order_id, order_lines.c.quantity)
    .join_from(order_lines, orders, order_lines.c.order_pk == orders.c.id)
    .where(
        order_lines.c.batch_reference == bindparam("reference"),
        orders.c.status != _SHIPPED,
    )
    .order_by(order_lines.c.allocation_seq.desc(), order_lines.c.id.desc())
)
_ALLOCATED_TO = Direct(_ALLOCATED_TO_ROWS)
# Every line holds at least one unit: the newest ``covering`` lines reach ``covering`` units.
# The limit is a subquery: the server plans ``LIMIT $n`` again at each execution once a batch
# holds many lines (its cost depends on n), and a fifth of a millisecond of planning outweighed
# the read; behind a subquery every n costs the same, so one plan serves them all.
_COVERING = Direct(
    _ALLOCATED_TO_ROWS.limit(select(bindparam("covering", type_=Integer)).scalar_subquery())
)
_BATCH_EXISTS = Direct(select(batches.c.id).where(batches.c.reference == bindparam("reference")))


# What adding a batch needs: the product, whether the reference is taken, the smallest waiting
# line and the stock's version: one statement, one snapshot.
_RECEIVING = Direct(
    select(
        products.c.sku,
        select(batches.c.id).where(batches.c.reference == bindparam("reference")).exists(),
        select(func.min(order_lines.c.quantity))
        .join_from(order_lines, orders, order_lines.c.order_pk == orders.c.id)
        .where(
            order_lines.c.sku == products.c.sku,
            order_lines.c.batch_reference.is_(None),
            orders.c.status == _BACKORDERED,
        )
        .scalar_subquery(),
        stocks.c.version,
    )
    .select_from(products.outerjoin(stocks, stocks.c.sku == products.c.sku))
    .where(products.c.sku == bindparam("sku"))
)


SessionOf = Callable[[], Session]
"""The unit of work's ORM session, made when first asked for."""


@functools.lru_cache(maxsize=4)
def _by_key_statement(mapper: Mapper[Any]) -> Select[Any]:
    """An ORM entity by its primary key, per mapper (mappers are made again between shops):
    built once, where ``Session.get`` builds its statement, and its cache key, at each call."""
    (column,) = mapper.primary_key
    return select(mapper).where(column == bindparam("key"))


def _by_key(session: Session, entity: type[Any], key: str) -> Any:
    """The ``entity`` whose primary key is ``key``, or None: one SELECT, autoflushed first as
    ``Session.get`` is; an object the session holds already is the one answered."""
    statement = _by_key_statement(inspect(entity))
    return session.execute(statement, {"key": key}).scalar_one_or_none()


class SqlProducts:
    """Products by sku (mapped by the ORM)."""

    def __init__(self, session: SessionOf) -> None:
        self._session = session

    def add(self, product: Product) -> None:
        """Store a new product."""
        self._session().add(product)

    def get(self, sku: str) -> Product | None:
        """The product with ``sku``, or None."""
        found: Product | None = _by_key(self._session(), Product, sku)
        return found


class SqlCustomers:
    """Customers by id (mapped by the ORM)."""

    def __init__(self, session: SessionOf) -> None:
        self._session = session

    def add(self, customer: Customer) -> None:
        """Store a new customer."""
        self._session().add(customer)

    def get(self, customer_id: str) -> Customer | None:
        """The customer with ``customer_id``, or None."""
        found: Customer | None = _by_key(self._session(), Customer, customer_id)
        return found


class SqlOrders:
    """Orders by id with their lines, and the allocation questions about lines.

    Orders are read and written with Core statements (``shop.adapters.records``): the
    repository keeps each order it handed out, once, with what it read, and ``write`` stores
    what changed."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._orders: dict[str, tuple[Order, Record | None]] = {}

    def add(self, order: Order) -> None:
        """Store a new order."""
        self._orders[order.order_id] = (order, None)

    def get(self, order_id: str) -> Order | None:
        """The order with ``order_id`` and its lines, or None."""
        known = self._orders.get(order_id)
        if known is not None:
            return known[0]
        rows = order_records.ORDER_BY_ID.run(self._connection, {"order_id": order_id})
        loaded = order_records.orders_from_rows(rows)
        if loaded is None:
            return None
        self._orders[order_id] = loaded
        return loaded[0]

    def write(self, recorded: Container[object]) -> None:
        """Store the new orders and what changed in the others (at commit); those in
        ``recorded`` wrote events."""
        write_all(
            self._connection,
            self._orders,
            order_records.write_new_order,
            order_records.write_order,
            recorded,
        )

    def waiting_for(self, sku: str) -> list[tuple[str, int]]:
        """(order id, quantity) of unallocated ``sku`` lines of backordered orders, oldest first."""
        rows = _WAITING.run(self._connection, {"sku": sku})
        return [(order_id, quantity) for order_id, quantity in rows]

    def allocated_to(
        self, batch_reference: str, covering: int | None = None
    ) -> list[tuple[str, int]]:
        """(order id, quantity) of lines holding ``batch_reference``, newest allocation first;
        with ``covering``, only as many of the newest as can be needed to reach that many units
        (a line holds at least one unit: at most ``covering`` lines)."""
        if covering is None:
            rows = _ALLOCATED_TO.run(self._connection, {"reference": batch_reference})
        else:
            parameters = {"reference": batch_reference, "covering": covering}
            rows = _COVERING.run(self._connection, parameters)
        return [(order_id, quantity) for order_id, quantity in rows]


class SqlStocks:
    """Stocks by sku with their batches (a few rows each), also found by batch reference.

    Read and written with Core statements, as orders are (``shop.adapters.records``)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._stocks: dict[str, tuple[Stock, Record | None]] = {}

    def add(self, stock: Stock) -> None:
        """Store a new stock."""
        self._stocks[stock.sku] = (stock, None)

    def get(self, sku: str) -> Stock | None:
        """The stock of ``sku`` with its batches, or None."""
        known = self._stocks.get(sku)
        if known is not None and (known[1] is None or known[1].complete):
            return known[0]
        return self._load(stock_records.STOCK_BY_SKU, {"sku": sku})

    def has_batch(self, reference: str) -> bool:
        """Whether any stock holds the batch ``reference`` (no stock is loaded)."""
        return _BATCH_EXISTS.run(self._connection, {"reference": reference}).first() is not None

    def receiving(self, sku: str, reference: str) -> Receiving:
        """What adding the batch ``reference`` of ``sku`` needs, in one round trip; the stock
        comes without its batches (see ``Receiving``)."""
        row = _RECEIVING.run(self._connection, {"sku": sku, "reference": reference}).first()
        if row is None:
            return Receiving(sku_known=False, reference_taken=False, stock=None,
                             smallest_waiting=None)  # fmt: skip
        _, taken, smallest, version = row
        stock: Stock | None = None
        if sku in self._stocks:
            stock = self._stocks[sku][0]
        elif version is not None:
            stock, record = stock_records.stock_without_batches(sku, version)
            self._stocks[sku] = (stock, record)
        return Receiving(
            sku_known=True, reference_taken=bool(taken), stock=stock, smallest_waiting=smallest
        )

    def get_by_batch(self, reference: str) -> Stock | None:
        """The stock holding the batch ``reference``, or None."""
        for stock, record in self._stocks.values():
            if stock.has_batch(BatchReference(reference)):
                # A stock read to receive this batch: the same stock, read whole.
                return stock if record is None or record.complete else self.get(stock.sku)
        return self._load(stock_records.STOCK_BY_BATCH, {"reference": reference})

    def write(self, recorded: Container[object]) -> None:
        """Store the new stocks and what changed in the others (at commit); those in
        ``recorded`` wrote events."""
        write_all(
            self._connection,
            self._stocks,
            stock_records.write_new_stock,
            stock_records.write_stock,
            recorded,
        )

    def _load(self, statement: Direct, parameters: dict[str, Any]) -> Stock | None:
        rows = statement.run(self._connection, parameters).all()
        loaded = stock_records.stock_from_rows(rows)
        if loaded is None:
            return None
        stock, record = loaded
        known = self._stocks.get(stock.sku)
        if known is not None:
            if known[1] is None or known[1].version != record.version:
                # Created or changed by another since it was first read in this transaction
                # (read committed): the rows read now would overwrite what changed in memory.
                raise ConcurrencyConflict(f"Stock {stock.sku!r} changed since it was read")
            # Read before without its batches (to receive one): the same stock, completed.
            stock = known[0]
            new = [batch for batch in stock.batches if batch.reference not in record.parts]
            stock.batches[:] = [*loaded[0].batches, *new]
        self._stocks[stock.sku] = (stock, record)
        return stock
