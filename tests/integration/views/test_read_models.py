"""The read models follow the events, in order, once, and are rebuilt from the log."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import attrs
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from shop.adapters.tables import seedwork_tables
from shop.bootstrap import Shop
from shop.domain import commands as c
from shop.domain import events
from shop.domain.money import Money
from shop.entrypoints.cli.views_rebuild import rebuild_views
from shop.views.projections import apply as projections
from shop.views.queries import SqlReadModels
from shop.views.tables import TABLES, metadata, order_view, stock_view

EUR = Money.of(12500, "EUR")


def stocked(shop: Shop, sku: str = "RED-CHAIR", quantity: int = 10) -> None:
    shop.bus.handle(c.AddProduct(sku=sku, name="Red chair", price=EUR))
    shop.bus.handle(c.AddBatch(reference=f"{sku}-later", sku=sku, quantity=quantity,
                               eta=date(2027, 1, 5)))  # fmt: skip
    shop.bus.handle(c.AddBatch(reference=f"{sku}-now", sku=sku, quantity=quantity))


def placed_order(shop: Shop, order_id: str, quantity: int, customer_id: str = "ann") -> None:
    if SqlReadModels(shop.engine).customer(customer_id) is None:
        shop.bus.handle(
            c.RegisterCustomer(customer_id=customer_id, name="Ann", email="a@example.com",
                               tier="gold")
        )  # fmt: skip
    shop.bus.handle(c.CreateOrder(order_id=order_id, customer_id=customer_id))
    shop.bus.handle(c.AddOrderLine(order_id=order_id, sku="RED-CHAIR", quantity=quantity))
    shop.bus.handle(
        c.SetShippingAddress(order_id=order_id, street="1 Main", city="Lyon", postcode="69001",
                             country="FR")
    )  # fmt: skip
    shop.bus.handle(c.PlaceOrder(order_id=order_id))


def everything(shop: Shop) -> dict[str, list[dict[str, Any]]]:
    with shop.engine.connect() as connection:
        return {
            table.name: sorted(
                (dict(row) for row in connection.execute(select(table)).mappings()),
                key=lambda row: tuple(str(value) for value in row.values()),
            )
            for table in TABLES
        }


def test_a_placed_order_shows_in_every_view(shop: Shop, views: SqlReadModels):
    stocked(shop)
    placed_order(shop, "o-1", 3)
    order = views.order("o-1")
    assert order is not None
    assert order["status"] == "confirmed"
    assert order["lines"][0]["batch_reference"] == "RED-CHAIR-now"
    assert order["total"] == {"amount": 34875, "currency": "EUR"}
    assert views.customer_orders("ann") == [
        {"order_id": "o-1", "status": "confirmed", "total": order["total"]}
    ]
    stock = views.stock("RED-CHAIR")
    assert stock == {
        "sku": "RED-CHAIR",
        "available": 17,
        "batches": [
            {"reference": "RED-CHAIR-now", "eta": None, "quantity": 10, "allocated": 3,
             "available": 7},
            {"reference": "RED-CHAIR-later", "eta": "2027-01-05", "quantity": 10, "allocated": 0,
             "available": 10},
        ],
    }  # fmt: skip
    assert views.batch("RED-CHAIR-now") == {"sku": "RED-CHAIR", **stock["batches"][0]}


def test_unknown_things_are_none(views: SqlReadModels):
    assert views.order("nope") is None
    assert views.customer_orders("nobody") is None
    assert views.stock("NO-SUCH") is None
    assert views.product("NO-SUCH") is None


def test_a_catalog_sku_without_batches_has_empty_stock(shop: Shop, views: SqlReadModels):
    shop.bus.handle(c.AddProduct(sku="LAMP", name="Lamp", price=EUR))
    assert views.stock("LAMP") == {"sku": "LAMP", "available": 0, "batches": []}


def test_a_customers_orders_are_newest_first(shop: Shop, views: SqlReadModels):
    stocked(shop)
    for order_id in ("o-1", "o-2", "o-3"):
        placed_order(shop, order_id, 1)
    shop.bus.handle(c.CancelOrder(order_id="o-2", reason="changed my mind"))
    listed = views.customer_orders("ann")
    assert listed is not None
    assert [(o["order_id"], o["status"]) for o in listed] == [
        ("o-3", "confirmed"), ("o-2", "cancelled"), ("o-1", "confirmed")
    ]  # fmt: skip


def test_an_event_handled_twice_or_late_changes_nothing(shop: Shop, views: SqlReadModels):
    stocked(shop)
    placed_order(shop, "o-1", 2)
    before = everything(shop)
    with shop.engine.connect() as connection:
        rows = connection.execute(
            select(seedwork_tables.outbox.c.envelope).order_by(seedwork_tables.outbox.c.id)
        ).scalars()
        old = [shop.serializer.loads(row) for row in rows]
    shop.bus.dispatch_events(old)
    assert everything(shop) == before
    logged = [attrs.evolve(e, log_position=n) for n, e in enumerate(old, start=1)]
    with shop.engine.begin() as connection:
        projections.project(connection, logged)
    assert everything(shop) == before
    # The oldest stock snapshot alone, late: the newer rows must stay as they are.
    oldest = next(e for e in logged if isinstance(e.message, events.StockRevised))
    with shop.engine.begin() as connection:
        projections.project(connection, [oldest])
    assert everything(shop) == before


def test_a_whole_history_projected_at_once_shows_what_it_showed_event_by_event(shop: Shop):
    # One project() call over many events: on PostgreSQL their upserts share statements,
    # and revisions of one row must never share one (the database would apply only one).
    stocked(shop)
    stocked(shop, "BLUE-SOFA", 3)
    placed_order(shop, "o-1", 2)
    placed_order(shop, "o-2", 12)
    shop.bus.handle(c.CancelOrder(order_id="o-1", reason="too slow"))
    before = everything(shop)
    with shop.engine.begin() as connection:
        rows = connection.execute(
            select(seedwork_tables.outbox.c.id, seedwork_tables.outbox.c.envelope)
        ).all()
        for table in TABLES:
            connection.execute(table.delete())
    logged = [attrs.evolve(shop.serializer.loads(e), log_position=n) for n, e in sorted(rows)]
    with shop.engine.begin() as connection:
        projections.project(connection, logged)
    assert everything(shop) == before


def test_a_change_and_its_views_commit_together(shop: Shop, views: SqlReadModels):
    stocked(shop)
    with shop.engine.begin() as connection:
        connection.execute(text("DROP TABLE batch_view"))
    outbox = seedwork_tables.outbox
    with shop.engine.connect() as connection:
        logged = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
    with pytest.raises(DBAPIError):
        shop.bus.handle(c.AddBatch(reference="RED-CHAIR-more", sku="RED-CHAIR", quantity=5))
    with shop.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(outbox)).scalar_one() == logged
    rebuild_views(shop, io.StringIO())
    stock = views.stock("RED-CHAIR")
    assert stock is not None
    references = [batch["reference"] for batch in stock["batches"]]
    assert references == ["RED-CHAIR-now", "RED-CHAIR-later"]
    assert stock["available"] == 20


def test_rebuild_recreates_dropped_and_damaged_views(shop: Shop):
    stocked(shop)
    placed_order(shop, "o-1", 4)
    placed_order(shop, "o-2", 20)
    shop.bus.handle(c.ChangeProductPrice(sku="RED-CHAIR", price=Money.of(999, "EUR")))
    shop.bus.handle(c.ChangeBatchQuantity(reference="RED-CHAIR-now", quantity=2))
    expected = everything(shop)
    with shop.engine.begin() as connection:
        connection.execute(text("DROP TABLE batch_view"))
        connection.execute(update(order_view).values(status="lost", document="{}"))
    progress = io.StringIO()
    applied, _ = rebuild_views(shop, progress)
    assert applied > 0
    assert everything(shop) == expected
    assert f"{applied}/{applied} events 100%" in progress.getvalue()


def test_the_migration_matches_the_read_model_tables(shop: Shop):
    with shop.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    ours = {table.name for table in TABLES}
    assert [d for d in differences if _table_of(d) in ours] == []


def _table_of(difference: Any) -> str | None:
    item = difference[0] if isinstance(difference, list) else difference
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if name is not None:
            return str(name)
    return None


def test_a_stocks_total_is_the_sum_of_the_batches_it_shows(shop: Shop, views: SqlReadModels):
    # A reader between two statements could see the stock's total from before a commit and its
    # batches from after; the total shown must be the sum of the batch rows shown.
    stocked(shop, quantity=10)
    with shop.engine.begin() as connection:  # the total row lagging its batches
        connection.execute(update(stock_view).values(available=3))
    stock = views.stock("RED-CHAIR")
    assert stock is not None
    assert stock["available"] == sum(batch["available"] for batch in stock["batches"]) != 3
