"""``shop db upgrade`` on an empty database yields exactly the schema of the mapped metadata."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from shop.adapters import tables as db
from shop.adapters.database import create_database_engine
from shop.entrypoints.cli.main import main
from shop.migrations import alembic_config
from shop.views import tables as views
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
        return kind != "table" or not mapped_tables_only or name in db.metadata.tables

    engine = create_database_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include}
            )
            return list(compare_metadata(context, db.metadata))
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


#: Columns of the mapped tables that migrations after 0002 add: (table, column).
LATER_COLUMNS = {("outbox", "actor")}


def test_the_domain_migration_creates_exactly_the_mapped_tables(empty_database_url: str) -> None:
    command.upgrade(alembic_config(empty_database_url), "0002")
    found = differences(empty_database_url, mapped_tables_only=False)
    added_later = [d for d in found if d[0] == "add_column" and (d[2], d[3].name) in LATER_COLUMNS]
    assert len(added_later) == len(LATER_COLUMNS)
    assert [d for d in found if d not in added_later] == []
    engine = create_database_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert tables == set(db.metadata.tables)


def test_db_upgrade_twice_changes_nothing(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert differences(empty_database_url, mapped_tables_only=True) == []


def test_shipped_units_leave_their_batches_on_upgrade(empty_database_url: str) -> None:
    # A v1 database: the shipped line's 3 units still counted, 2 units leaked (issue 10 §1).
    command.upgrade(alembic_config(empty_database_url), "0003")
    engine = create_database_engine(empty_database_url)
    money = {f"{name}_{part}": value for name in ("subtotal", "discount", "shipping_cost", "total")
             for part, value in (("amount", 0), ("currency", "EUR"))}  # fmt: skip
    try:
        with engine.begin() as connection:
            connection.execute(insert(db.stocks), [{"sku": "LAMP", "version": 4}])
            connection.execute(
                insert(db.batches),
                [{"reference": "b-1", "sku": "LAMP", "quantity": 10, "eta": None, "allocated": 7}],
            )
            for pk, (order_id, status, quantity) in enumerate(
                [("o-1", "shipped", 3), ("o-2", "confirmed", 2), ("o-3", "backordered", 1)], 1
            ):
                connection.execute(
                    insert(db.orders),
                    [{"id": pk, "order_id": order_id, "customer_id": "c-1", "tier": "bronze",
                      "status": status, "version": 1, **money}],
                )  # fmt: skip
                connection.execute(
                    insert(db.order_lines),
                    [{"order_pk": pk, "sku": "LAMP", "name": "Lamp", "quantity": quantity,
                      "unit_price_amount": 100, "unit_price_currency": "EUR",
                      "batch_reference": "b-1" if status != "backordered" else None}],
                )  # fmt: skip
            connection.execute(
                insert(views.stock_view), [{"sku": "LAMP", "available": 3, "position": 9}]
            )
            connection.execute(
                insert(views.batch_view),
                [{"reference": "b-1", "sku": "LAMP", "rank": 0, "eta": None, "quantity": 10,
                  "allocated": 7, "available": 3}],
            )  # fmt: skip
        command.upgrade(alembic_config(empty_database_url), "head")
        with engine.connect() as connection:
            batch = connection.execute(select(db.batches.c.quantity, db.batches.c.allocated))
            assert batch.one() == (7, 2)
            shown = connection.execute(
                select(views.batch_view.c.quantity, views.batch_view.c.allocated,
                       views.batch_view.c.available)
            )  # fmt: skip
            assert shown.one() == (7, 2, 5)
            assert connection.execute(select(views.stock_view.c.available)).scalar_one() == 5
            assert connection.execute(select(db.stocks.c.version)).scalar_one() == 5
    finally:
        engine.dispose()
