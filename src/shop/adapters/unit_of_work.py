"""The shop's SQLAlchemy unit of work: its repositories are attributes of their own types.

Each ``with`` block opens the four repositories: stocks and orders on its connection (they
write their own changes at commit, after the ORM's flush: ``shop.adapters.records``), products
and customers on its ORM session, made only when one of them is first used; each wrapped in a
``TrackingRepository`` that keeps every aggregate it hands out (their events are the commit's;
the session's identity map would not do: it holds an unchanged root only weakly, and a root
whose parts alone changed is unchanged). The wrapper answers as the repository does, so each
attribute is typed as the repository it wraps: ``uow.orders`` answers as a ``SqlOrders``.

The inline projections (docs/adr/0009) are given the connection of the transaction that
records the events, and nothing else of the unit of work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from seedwork.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from shop.adapters.repositories import SqlCustomers, SqlOrders, SqlProducts, SqlStocks
from shop.service_layer.unit_of_work import ShopUnitOfWork


class SqlShopUnitOfWork(SqlAlchemyUnitOfWork):
    """One transaction over the shop's repositories (``shop.service_layer.unit_of_work``)."""

    products: SqlProducts
    customers: SqlCustomers
    orders: SqlOrders
    stocks: SqlStocks

    def _open(self, connection: Connection) -> None:
        self._stocks = SqlStocks(connection)
        self._orders = SqlOrders(connection)
        self.products = self.track(SqlProducts(self._session_now))
        self.customers = self.track(SqlCustomers(self._session_now))
        self.orders = self.track(self._orders)
        self.stocks = self.track(self._stocks)

    def _session_now(self) -> Session:
        return self.session

    def _flush(self, connection: Connection) -> None:
        """The ORM's flush (products, customers, if the block touched any), then the stocks
        and orders, in that order (every writer takes row locks in the same order)."""
        super()._flush(connection)
        self._stocks.write(self._recorded)
        self._orders.write(self._recorded)


if TYPE_CHECKING:  # what the handlers ask for, checked by mypy

    def _is_a_shop_unit_of_work(uow: SqlShopUnitOfWork) -> ShopUnitOfWork:
        return uow
