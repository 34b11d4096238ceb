"""``shop db upgrade`` on an empty database yields exactly the schema of the mapped metadata."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from shop.adapters import orm
from shop.adapters.database import create_database_engine
from shop.entrypoints.cli import main
from shop.migrations import alembic_config
from tests import services


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with services.fresh_postgres_database() as url:
        yield url


def differences(url: str, mapped_tables_only: bool) -> list[Any]:
    """What alembic would change to make the database match the mapped metadata."""

    def include(name: str | None, kind: str, _: Any) -> bool:
        return kind != "table" or not mapped_tables_only or name in orm.metadata.tables

    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include}
            )
            return list(compare_metadata(context, orm.metadata))
    finally:
        engine.dispose()


def test_db_upgrade_creates_the_mapped_schema(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["db", "upgrade"]) == 0
    assert "database upgraded" in capsys.readouterr().out
    # Later migrations add the read models, which live in their own metadata.
    assert differences(empty_database_url, mapped_tables_only=True) == []


def test_the_domain_migration_creates_exactly_the_mapped_tables(empty_database_url: str) -> None:
    command.upgrade(alembic_config(empty_database_url), "0002")
    assert differences(empty_database_url, mapped_tables_only=False) == []
    engine = create_database_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert tables == set(orm.metadata.tables)


def test_db_upgrade_twice_changes_nothing(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert differences(empty_database_url, mapped_tables_only=True) == []
