"""What the shop's handlers need from a unit of work and its repositories.

The SQLAlchemy unit of work (``shop.adapters``) and the unit-test fakes both satisfy
these protocols; the handlers know nothing else about storage.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

import attrs

from shop.domain.catalog import Product
from shop.domain.customers import Customer
from shop.domain.inventory import Stock
from shop.domain.ordering import Order


class ProductRepository(Protocol):
    """Products by sku."""

    def add(self, product: Product) -> None:
        """Store a new product."""

    def get(self, sku: str) -> Product | None:
        """The product with ``sku``, or None."""


class CustomerRepository(Protocol):
    """Customers by id."""

    def add(self, customer: Customer) -> None:
        """Store a new customer."""

    def get(self, customer_id: str) -> Customer | None:
        """The customer with ``customer_id``, or None."""


class OrderRepository(Protocol):
    """Orders by id, plus the two questions allocation asks about order lines."""

    def add(self, order: Order) -> None:
        """Store a new order."""

    def get(self, order_id: str) -> Order | None:
        """The order with ``order_id``, or None."""

    def waiting_for(self, sku: str) -> list[tuple[str, int]]:
        """(order id, quantity) of unallocated ``sku`` lines of backordered orders, oldest first."""

    def allocated_to(
        self, batch_reference: str, covering: int | None = None
    ) -> list[tuple[str, int]]:
        """(order id, quantity) of lines holding ``batch_reference``, newest allocation first.

        Only lines that can give their stock back count: lines of shipped orders are left out.
        With ``covering``, only the newest lines up to the first that reaches that many units
        (or more of them: at most ``covering``; all of them when they do not reach it).
        """


@attrs.frozen
class Receiving:
    """What adding a batch to a sku needs to know, read together in one round trip.

    ``stock`` is the sku's stock with none of its batches loaded (a new batch needs no other:
    its reference is checked against every sku, ``reference_taken``); ``smallest_waiting`` is
    the smallest quantity of a line waiting for the sku, if any waits.
    """

    sku_known: bool
    reference_taken: bool
    stock: Stock | None
    smallest_waiting: int | None


class StockRepository(Protocol):
    """Stocks by sku, each with all its batches."""

    def add(self, stock: Stock) -> None:
        """Store a new stock."""

    def get(self, sku: str) -> Stock | None:
        """The stock of ``sku``, or None when it never had a batch."""

    def get_by_batch(self, reference: str) -> Stock | None:
        """The stock holding the batch ``reference``, or None."""

    def has_batch(self, reference: str) -> bool:
        """Whether any stock holds the batch ``reference`` (batch references are global)."""

    def receiving(self, sku: str, reference: str) -> Receiving:
        """What adding the batch ``reference`` of ``sku`` needs: see ``Receiving``."""


class ShopUnitOfWork(Protocol):
    """One transaction over the shop's repositories; nothing is kept without ``commit``."""

    @property
    def products(self) -> ProductRepository:
        """The catalog."""

    @property
    def customers(self) -> CustomerRepository:
        """Registered customers."""

    @property
    def orders(self) -> OrderRepository:
        """Orders."""

    @property
    def stocks(self) -> StockRepository:
        """Stock per sku."""

    def __enter__(self) -> Self:
        """Begin the transaction."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """End it, rolling back what was not committed."""

    def commit(self) -> None:
        """Keep the changes and their events, atomically."""

    def rollback(self) -> None:
        """Discard the changes."""
