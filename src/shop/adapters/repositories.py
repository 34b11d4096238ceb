"""SQLAlchemy repositories of the shop's aggregates; each load is one round trip.

Orders come with their lines and stocks with their batches (joined eager loading);
past allocations live on order lines and are only ever queried, never loaded with a stock.
"""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, func, inspect, select
from sqlalchemy.orm import Mapper, Session, noload

from shop.adapters.tables import batches, order_lines, orders, products, stocks
from shop.domain.catalog import Product
from shop.domain.customers import Customer
from shop.domain.inventory import Stock
from shop.domain.ordering import Order, OrderStatus
from shop.service_layer.unit_of_work import Receiving

# Statements are built once: a statement object memoizes its cache key, so executing it
# again skips that work. Those naming mapped classes are built once per mapping (the classes'
# mapper is their key: a shop booted after the last one closed maps the classes anew).
_WAITING = (
    select(orders.c.order_id, order_lines.c.quantity)
    .join_from(order_lines, orders, order_lines.c.order_pk == orders.c.id)
    .where(
        order_lines.c.sku == bindparam("sku"),
        order_lines.c.batch_reference.is_(None),
        orders.c.status == OrderStatus.BACKORDERED,
    )
    .order_by(orders.c.id)
)
_ALLOCATED_TO = (
    select(orders.c.order_id, order_lines.c.quantity)
    .join_from(order_lines, orders, order_lines.c.order_pk == orders.c.id)
    .where(
        order_lines.c.batch_reference == bindparam("reference"),
        orders.c.status != OrderStatus.SHIPPED,
    )
    .order_by(order_lines.c.allocation_seq.desc(), order_lines.c.id.desc())
)
# Every line holds at least one unit: the newest ``covering`` lines reach ``covering`` units.
_COVERING = _ALLOCATED_TO.limit(bindparam("covering"))
_BATCH_EXISTS = select(batches.c.id).where(batches.c.reference == bindparam("reference"))


@functools.lru_cache(maxsize=1)
def _order_by_id(_: Mapper[Order]) -> Select[tuple[Order]]:
    return select(Order).where(orders.c.order_id == bindparam("order_id"))


@functools.lru_cache(maxsize=1)
def _receiving(_: Mapper[Stock]) -> Select[tuple[str, bool, int | None, Stock]]:
    """The product, whether the reference is taken, the smallest waiting line and the stock
    row without its batches: one statement, one snapshot."""
    taken = select(batches.c.id).where(batches.c.reference == bindparam("reference")).exists()
    smallest = (
        select(func.min(order_lines.c.quantity))
        .join_from(order_lines, orders, order_lines.c.order_pk == orders.c.id)
        .where(
            order_lines.c.sku == products.c.sku,
            order_lines.c.batch_reference.is_(None),
            orders.c.status == OrderStatus.BACKORDERED,
        )
        .scalar_subquery()
    )
    return (
        select(products.c.sku, taken, smallest, Stock)
        .select_from(products)
        .outerjoin(Stock, stocks.c.sku == products.c.sku)
        .where(products.c.sku == bindparam("sku"))
        .options(noload(Stock.batches))  # type: ignore[arg-type]
    )


@functools.lru_cache(maxsize=1)
def _stock_by_batch(_: Mapper[Stock]) -> Select[tuple[Stock]]:
    batch_sku = select(batches.c.sku).where(batches.c.reference == bindparam("reference"))
    return select(Stock).where(stocks.c.sku == batch_sku.scalar_subquery())


class SqlProducts:
    """Products by sku."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, product: Product) -> None:
        """Store a new product."""
        self._session.add(product)

    def get(self, sku: str) -> Product | None:
        """The product with ``sku``, or None."""
        return self._session.get(Product, sku)


class SqlCustomers:
    """Customers by id."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, customer: Customer) -> None:
        """Store a new customer."""
        self._session.add(customer)

    def get(self, customer_id: str) -> Customer | None:
        """The customer with ``customer_id``, or None."""
        return self._session.get(Customer, customer_id)


class SqlOrders:
    """Orders by id with their lines, and the allocation questions about lines."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, order: Order) -> None:
        """Store a new order."""
        self._session.add(order)

    def get(self, order_id: str) -> Order | None:
        """The order with ``order_id`` and its lines, or None."""
        return (
            self._session.scalars(_order_by_id(inspect(Order)), {"order_id": order_id})
            .unique()
            .one_or_none()
        )

    def waiting_for(self, sku: str) -> list[tuple[str, int]]:
        """(order id, quantity) of unallocated ``sku`` lines of backordered orders, oldest first."""
        rows = self._session.execute(_WAITING, {"sku": sku})
        return [(order_id, quantity) for order_id, quantity in rows]

    def allocated_to(
        self, batch_reference: str, covering: int | None = None
    ) -> list[tuple[str, int]]:
        """(order id, quantity) of lines holding ``batch_reference``, newest allocation first;
        with ``covering``, only as many of the newest as can be needed to reach that many units
        (a line holds at least one unit: at most ``covering`` lines)."""
        if covering is None:
            rows = self._session.execute(_ALLOCATED_TO, {"reference": batch_reference})
        else:
            parameters = {"reference": batch_reference, "covering": covering}
            rows = self._session.execute(_COVERING, parameters)
        return [(order_id, quantity) for order_id, quantity in rows]


class SqlStocks:
    """Stocks by sku with their batches (a few rows each), also found by batch reference."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, stock: Stock) -> None:
        """Store a new stock."""
        self._session.add(stock)

    def get(self, sku: str) -> Stock | None:
        """The stock of ``sku`` with its batches, or None."""
        return self._session.get(Stock, sku)

    def has_batch(self, reference: str) -> bool:
        """Whether any stock holds the batch ``reference`` (no stock is loaded)."""
        return self._session.execute(_BATCH_EXISTS, {"reference": reference}).first() is not None

    def receiving(self, sku: str, reference: str) -> Receiving:
        """What adding the batch ``reference`` of ``sku`` needs, in one round trip; the stock
        comes without its batches (see ``Receiving``)."""
        row = self._session.execute(
            _receiving(inspect(Stock)), {"sku": sku, "reference": reference}
        ).first()
        if row is None:
            return Receiving(sku_known=False, reference_taken=False, stock=None,
                             smallest_waiting=None)  # fmt: skip
        _, taken, smallest, stock = row
        return Receiving(
            sku_known=True, reference_taken=bool(taken), stock=stock, smallest_waiting=smallest
        )

    def get_by_batch(self, reference: str) -> Stock | None:
        """The stock holding the batch ``reference``, or None."""
        return (
            self._session.scalars(_stock_by_batch(inspect(Stock)), {"reference": reference})
            .unique()
            .one_or_none()
        )
