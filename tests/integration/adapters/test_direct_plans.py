"""The shop's hot statements all run on the driver on PostgreSQL (psycopg): none of them
falls back to SQLAlchemy's execution unnoticed (a type processor is fine; a Python-side
default or an expanding parameter added to one would make it fall back)."""

from __future__ import annotations

from types import ModuleType

import pytest
from sqlalchemy.dialects.postgresql import psycopg

from seedwork.sqlalchemy.direct import Direct
from seedwork.sqlalchemy.relay_postgresql import OutboxStatements
from seedwork.sqlalchemy.uow_dialects import PostgresqlDialect
from shop.adapters import repositories, tables
from shop.adapters.records import orders, stocks

DIALECT = psycopg.dialect()  # type: ignore[no-untyped-call]


def _directs(module: ModuleType) -> dict[str, Direct]:
    return {name: value for name, value in vars(module).items() if isinstance(value, Direct)}


@pytest.mark.parametrize("module", [orders, stocks, repositories], ids=lambda m: m.__name__)
def test_every_statement_of_the_aggregates_runs_on_the_driver(module: ModuleType) -> None:
    directs = _directs(module)
    assert directs, f"{module.__name__} has no direct statements"
    assert [name for name, direct in directs.items() if direct.plan(DIALECT) is None] == []


@pytest.mark.parametrize("notify", [False, True])
@pytest.mark.parametrize("durable", [False, True])
def test_the_outbox_insert_runs_on_the_driver(notify: bool, durable: bool) -> None:
    outbox = tables.seedwork_tables.outbox
    statement = PostgresqlDialect().outbox_statement(outbox, 3, notify=notify, durable=durable)
    assert statement.plan(DIALECT) is not None


def test_the_relays_claims_run_on_the_driver() -> None:
    statements = OutboxStatements.build(tables.seedwork_tables.outbox, batch_size=500)
    claims = [*statements.take_turn.values(), statements.claim_and_mark]
    assert all(
        claim.plan(DIALECT) is not None for claim in [*claims, statements.try_claim_and_mark]
    )
