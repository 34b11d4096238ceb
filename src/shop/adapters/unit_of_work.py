"""The shop's SQLAlchemy unit of work: its repositories are attributes of their own types.

Each ``with`` block opens the four repositories on its session, each wrapped in a
``TrackingRepository`` that keeps every aggregate it hands out (their events are the commit's;
the session's identity map would not do: it holds an unchanged root only weakly, and a root
whose parts alone changed is unchanged). The wrapper answers as the repository does, so each
attribute is typed as the repository it wraps: ``uow.orders`` answers as a ``SqlOrders``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy.orm import Session, sessionmaker

from seedwork.core.serialization import Serializer
from seedwork.sqlalchemy.tables import SeedworkTables
from seedwork.sqlalchemy.unit_of_work import Projector, SqlAlchemyUnitOfWork
from shop.adapters.repositories import SqlCustomers, SqlOrders, SqlProducts, SqlStocks
from shop.service_layer.unit_of_work import ShopUnitOfWork


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
        """See ``SqlAlchemyUnitOfWork``; the repositories are this class's own."""
        super().__init__(
            session_factory, tables, serializer, {}, project=project, wake_relays=wake_relays
        )

    def _begin(self) -> None:
        super()._begin()
        session = self.session
        assert session is not None
        self.products = cast(SqlProducts, self.track(SqlProducts(session)))
        self.customers = cast(SqlCustomers, self.track(SqlCustomers(session)))
        self.orders = cast(SqlOrders, self.track(SqlOrders(session)))
        self.stocks = cast(SqlStocks, self.track(SqlStocks(session)))


if TYPE_CHECKING:  # what the handlers ask for, checked by mypy

    def _is_a_shop_unit_of_work(uow: SqlShopUnitOfWork) -> ShopUnitOfWork:
        return uow
