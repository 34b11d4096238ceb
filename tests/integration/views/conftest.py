"""A migrated shop on a fresh SQLite file or PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.migrations import upgrade
from shop.views.queries import SqlReadModels
from tests import services


@pytest.fixture(params=["sqlite", "postgres"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """A wired shop on a freshly migrated database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
        yield from _migrated(url)
        return
    request.getfixturevalue("postgres_url")  # skips or fails clearly without PostgreSQL
    with services.fresh_postgres_database() as url:
        yield from _migrated(url)


def _migrated(url: str) -> Iterator[Shop]:
    shop = bootstrap(Settings(database_url=url))
    try:
        upgrade(shop.engine)
        yield shop
    finally:
        shop.close()


@pytest.fixture
def views(shop: Shop) -> SqlReadModels:
    return SqlReadModels(shop.engine)
