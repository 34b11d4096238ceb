"""In-memory repositories answering the shop's queries, for unit tests and the contract test.

The SQL repositories (``shop.adapters.repositories``) pass the same contract test, so
these fakes cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from seedwork.core.messages import Envelope
from seedwork.core.model import AggregateRoot
from seedwork.testing.fakes import FakeInbox, FakeRepository, FakeUnitOfWork
from shop.domain.inventory import Stock
from shop.domain.ordering import Order, OrderStatus
from shop.service_layer.unit_of_work import (
    CustomerRepository,
    OrderRepository,
    ProductRepository,
    Receiving,
    ShopUnitOfWork,
    StockRepository,
)


class FakeOrders(FakeRepository):
    """Orders in creation order, answering the allocation queries.

    Allocations are numbered as the fake notices them (on every call), the way the
    database numbers them on commit; allocations noticed together count oldest order first.
    """

    def __init__(self, aggregates: list[AggregateRoot] | None = None) -> None:
        super().__init__(aggregates)
        self._allocations: dict[tuple[str, str], tuple[str, int]] = {}
        self._sequence = 0

    def add(self, aggregate: AggregateRoot) -> None:
        """Store a new order."""
        self._notice_allocations()
        super().add(aggregate)

    def get(self, identity: Any) -> Any:
        """The order with this id, or None."""
        self._notice_allocations()
        return super().get(identity)

    def waiting_for(self, sku: str) -> list[tuple[str, int]]:
        """(order id, quantity) of unallocated ``sku`` lines of backordered orders, oldest first."""
        self._notice_allocations()
        return [
            (order.order_id, line.quantity)
            for order in self._orders()
            if order.status == OrderStatus.BACKORDERED
            for line in order.lines
            if line.sku == sku and not line.allocated
        ]

    def allocated_to(
        self, batch_reference: str, covering: int | None = None
    ) -> list[tuple[str, int]]:
        """(order id, quantity) of lines holding ``batch_reference``, newest allocation first;
        with ``covering``, at most that many (a line holds at least one unit)."""
        self._notice_allocations()
        holding = [
            (self._allocations[order.order_id, line.sku][1], order.order_id, line.quantity)
            for order in self._orders()
            if order.status != OrderStatus.SHIPPED
            for line in order.lines
            if line.batch_reference == batch_reference
        ]
        newest: list[tuple[str, int]] = [
            (order_id, quantity) for _, order_id, quantity in sorted(holding, reverse=True)
        ]
        return newest if covering is None else newest[:covering]

    def _orders(self) -> list[Order]:
        return list(self)

    def _notice_allocations(self) -> None:
        held: set[tuple[str, str]] = set()
        for order in self._orders():
            for line in order.lines:
                key: tuple[str, str] = (order.order_id, line.sku)
                if line.batch_reference is None:
                    continue
                held.add(key)
                known = self._allocations.get(key)
                if known is None or known[0] != line.batch_reference:
                    self._sequence += 1
                    self._allocations[key] = (line.batch_reference, self._sequence)
        for key in set(self._allocations) - held:
            del self._allocations[key]


class FakeStocks(FakeRepository):
    """Stocks by sku, also found by batch reference; ``receiving`` asks the catalog and the
    orders it is given."""

    def __init__(
        self,
        aggregates: list[AggregateRoot] | None = None,
        *,
        products: FakeRepository | None = None,
        orders: FakeOrders | None = None,
    ) -> None:
        super().__init__(aggregates)
        self._products = FakeRepository() if products is None else products
        self._orders = FakeOrders() if orders is None else orders

    def receiving(self, sku: str, reference: str) -> Receiving:
        """What adding the batch ``reference`` of ``sku`` needs (see ``Receiving``)."""
        waiting = [quantity for _, quantity in self._orders.waiting_for(sku)]
        return Receiving(
            sku_known=self._products.get(sku) is not None,
            reference_taken=self.has_batch(reference),
            stock=self.get(sku),
            smallest_waiting=min(waiting, default=None),
        )

    def get_by_batch(self, reference: str) -> Stock | None:
        """The stock holding the batch ``reference``, or None."""
        return next((stock for stock in self if stock.has_batch(reference)), None)

    def has_batch(self, reference: str) -> bool:
        """Whether any stock holds the batch ``reference``."""
        return self.get_by_batch(reference) is not None


class FakeShopStorage:
    """The four repositories of one in-memory shop, and units of work over them."""

    def __init__(self, orders: FakeOrders | None = None) -> None:
        """``orders``: a ``FakeOrders`` of the test's own, if it needs one."""
        self.products = FakeRepository()
        self.customers = FakeRepository()
        self.orders = FakeOrders() if orders is None else orders
        self.stocks = FakeStocks(products=self.products, orders=self.orders)

    def unit_of_work_factory(
        self,
        *,
        inbox: FakeInbox | None = None,
        project: Callable[[Sequence[Envelope]], None] | None = None,
    ) -> Callable[[], FakeShopUnitOfWork]:
        """A factory of units of work sharing these repositories (and ``inbox``, ``project``)."""

        def build() -> FakeShopUnitOfWork:
            return FakeShopUnitOfWork(self, inbox=inbox, project=project)

        return build


class FakeShopUnitOfWork(FakeUnitOfWork):
    """The shop's unit of work in memory: its repositories as typed attributes, each wrapped
    to collect the events of the aggregates it hands out (``TrackingRepository``)."""

    products: ProductRepository
    customers: CustomerRepository
    orders: OrderRepository
    stocks: StockRepository

    def __init__(
        self,
        storage: FakeShopStorage,
        *,
        inbox: FakeInbox | None = None,
        project: Callable[[Sequence[Envelope]], None] | None = None,
    ) -> None:
        super().__init__(inbox, project)
        self._storage = storage
        self._open()

    def _open(self) -> None:
        storage = self._storage
        self.products = cast(ProductRepository, self.track(storage.products))
        self.customers = cast(CustomerRepository, self.track(storage.customers))
        self.orders = cast(OrderRepository, self.track(storage.orders))
        self.stocks = cast(StockRepository, self.track(storage.stocks))


if TYPE_CHECKING:  # what the handlers ask for, checked by mypy

    def _is_a_shop_unit_of_work(uow: FakeShopUnitOfWork) -> ShopUnitOfWork:
        return uow
