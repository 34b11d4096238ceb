"""Integration fixtures: real databases, one fresh schema per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData

from shop.adapters.database import create_database_engine


def _reset(engine: Engine, metadata: MetaData) -> None:
    metadata.drop_all(engine)
    metadata.create_all(engine)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL: a fresh SQLite file, or this session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test's database, disposed afterwards."""
    engine = create_database_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()
