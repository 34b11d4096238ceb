"""A wired shop on PostgreSQL and Redis, driven through its Flask app, and its metrics read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from seedwork.observability.tracing import Tracing
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.http.app import create_app
from shop.migrations import upgrade
from tests import services

ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}


@pytest.fixture
def shop_database() -> Iterator[str]:
    with services.fresh_postgres_database() as url:
        yield url


@pytest.fixture
def wired(shop_database: str, redis_url: str, channel_prefix: str) -> Iterator[Callable[..., Shop]]:
    """Wire a migrated shop (optionally traced); closed when the test ends."""
    made: list[Shop] = []

    def wire(tracing: Tracing | None = None) -> Shop:
        settings = Settings(
            database_url=shop_database, redis_url=redis_url, channel_prefix=channel_prefix
        )
        shop = bootstrap(settings, tracing=tracing)
        upgrade(shop.engine)
        made.append(shop)
        return shop

    yield wire
    for shop in made:
        shop.close()


def call(client: FlaskClient, method: str, path: str, expect: int, **kwargs: Any) -> Any:
    """Send a request through the app; check its status; return its JSON."""
    answer = client.open(path, method=method, **kwargs)
    assert answer.status_code == expect, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.get_json(silent=True)


def draft_order(client: FlaskClient, sku: str, quantity: int = 2) -> str:
    """A product with stock, a customer, and a draft order ready to place; returns its id."""
    price = {"amount": 1250, "currency": "EUR"}
    call(client, "POST", "/products", 201, json={"sku": sku, "name": "A thing", "price": price})
    batch = {"reference": f"{sku}-B1", "sku": sku, "quantity": 10, "eta": None}
    call(client, "POST", "/batches", 201, json=batch)
    customer = {"name": "Ann Example", "email": "ann@example.com", "tier": "bronze"}
    customer_id = call(client, "POST", "/customers", 201, json=customer)["customer_id"]
    order_id = str(
        call(client, "POST", "/orders", 201, json={"customer_id": customer_id})["order_id"]
    )
    line = {"sku": sku, "quantity": quantity}
    call(client, "POST", f"/orders/{order_id}/lines", 201, json=line)
    call(client, "PUT", f"/orders/{order_id}/shipping-address", 200, json=ADDRESS)
    return order_id


def scrape(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``GET /metrics``, parsed: (sample name, labels) -> value."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """One sample's value (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def create_client(shop: Shop) -> FlaskClient:
    """A test client of the shop's Flask app."""
    return create_app(shop=shop).test_client()
