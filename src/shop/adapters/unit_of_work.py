"""The shop's SQLAlchemy unit of work: its repositories are attributes of their own types.

Each ``with`` block opens the four repositories on its session (stocks and orders write their
own changes at commit, after the ORM's flush: ``shop.adapters.records``), each wrapped in a
``TrackingRepository`` that keeps every aggregate it hands out (their events are the commit's;
the session's identity map would not do: it holds an unchanged root only weakly, and a root
whose parts alone changed is unchanged). The wrapper answers as the repository does, so each
attribute is typed as the repository it wraps: ``uow.orders`` answers as a ``SqlOrders``.

The inline projections (docs/adr/0009) are given the connection of the transaction that
records the events, and nothing else of the unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from seedwork.core.messages import Envelope
from seedwork.core.serialization import Serializer
from seedwork.sqlalchemy.tables import SeedworkTables
from seedwork.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from shop.adapters.repositories import SqlCustomers, SqlOrders, SqlProducts, SqlStocks
from shop.service_layer.unit_of_work import ShopUnitOfWork

Projector = Callable[[Connection, Sequence[Envelope]], None]
"""Applies a commit's events, with their log positions, through the transaction's connection."""


class SqlShopUnitOfWork(SqlAlchemyUnitOfWork):
    """One transaction over the shop's repositories (``shop.service_layer.unit_of_work``)."""

    products: SqlProducts
    customers: SqlCustomers
    orders: SqlOrders
    stocks: SqlStocks

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        tables: SeedworkTables,
        serializer: Serializer,
        *,
        project: Projector | None = None,
        wake_relays: bool = False,
    ) -> None:
        """See ``SqlAlchemyUnitOfWork``; the repositories are this class's own, and ``project``
        is given the transaction's connection."""
        projecting = None if project is None else self._project_on_connection
        super().__init__(
            session_factory, tables, serializer, project=projecting, wake_relays=wake_relays
        )
        self._projector = project

    def _open(self, session: Session) -> None:
        self._stocks = SqlStocks(session)
        self._orders = SqlOrders(session)
        self.products = self.track(SqlProducts(session))
        self.customers = self.track(SqlCustomers(session))
        self.orders = self.track(self._orders)
        self.stocks = self.track(self._stocks)

    def _flush(self, session: Session) -> None:
        """The ORM's flush (products, customers), then the stocks and orders, in that order
        (every writer takes row locks in the same order)."""
        session.flush()
        self._stocks.write()
        self._orders.write()

    def _project_on_connection(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        assert self._projector is not None
        self._projector(session.connection(), envelopes)


if TYPE_CHECKING:  # what the handlers ask for, checked by mypy

    def _is_a_shop_unit_of_work(uow: SqlShopUnitOfWork) -> ShopUnitOfWork:
        return uow
