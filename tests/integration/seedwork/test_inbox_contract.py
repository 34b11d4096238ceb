"""``SqlInbox`` on SQLite and PostgreSQL passes the inbox contract (as ``FakeInbox`` does)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import sessionmaker

from seedwork.core.messages import MessageRegistry
from seedwork.core.serialization import Serializer
from seedwork.sqlalchemy.inbox import SqlInbox
from seedwork.sqlalchemy.tables import define_tables
from seedwork.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from seedwork.testing.contracts import InboxCase, InboxContract

metadata = MetaData()
tables = define_tables(metadata)


class TestSqlInbox(InboxContract):
    @pytest.fixture
    def inbox_case(self, engine: Engine) -> Iterator[InboxCase]:
        metadata.drop_all(engine)
        metadata.create_all(engine)
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        serializer = Serializer(MessageRegistry())
        yield InboxCase(
            SqlInbox(engine, tables.inbox),
            lambda: SqlAlchemyUnitOfWork(factory, tables, serializer),
        )
        metadata.drop_all(engine)
