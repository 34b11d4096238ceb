"""Storage for the repository contract: the in-memory fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shop.adapters import tables as db
from shop.adapters.database import create_database_engine
from shop.adapters.fakes import FakeShopStorage
from shop.bootstrap import bootstrap
from shop.config import Settings
from shop.views import tables as views


@pytest.fixture(params=["fake", "sqlite", "postgres"])
def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """A factory of units of work over one empty store of each kind."""
    if request.param == "fake":
        yield FakeShopStorage().unit_of_work_factory()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_database_engine(url)
    for tables in (db.metadata, views.metadata):
        tables.drop_all(engine)
        tables.create_all(engine)
    shop = bootstrap(Settings(database_url=url), engine=engine)
    try:
        yield shop.uow_factory
    finally:
        shop.close()
