"""When the database drops its connections (a restart, a failover), the API answers 503 at
most for the request that found a dead connection, and then serves again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.http.app import create_app
from shop.migrations import upgrade
from tests import services


@pytest.fixture
def shop(postgres_url: str) -> Iterator[Shop]:
    with services.fresh_postgres_database() as url:
        wired = bootstrap(Settings(database_url=url))
        try:
            upgrade(wired.engine)
            yield wired
        finally:
            wired.close()


def terminate_connections(database: str) -> int:
    admin = create_engine(services.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                ).all()
            )
    finally:
        admin.dispose()


def test_dropped_connections_cost_at_most_one_503_then_requests_succeed(shop: Shop):
    client = create_app(shop=shop).test_client()
    price = {"amount": 100, "currency": "EUR"}
    assert (
        client.post("/products", json={"sku": "A-1", "name": "a", "price": price}).status_code
        == 201
    )
    assert terminate_connections(str(make_url(str(shop.engine.url)).database)) >= 1

    statuses = [
        client.post("/products", json={"sku": f"B-{n}", "name": "b", "price": price}).status_code
        for n in range(4)
    ]
    assert statuses.count(503) <= 1
    assert statuses[-3:] == [201, 201, 201]
    answer = client.get("/products/B-3")
    assert answer.status_code == 200
