"""A failed reaction is kept without the configured secrets in its error (CONTRACT §1)."""

from __future__ import annotations

from sqlalchemy import Engine

from seedwork.core.retry import RetryPolicy
from shop.adapters import tables as db
from shop.adapters.failed_events import SqlFailedEvents
from shop.bootstrap import bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain import events
from shop.domain.money import Money
from shop.views import tables as views

SECRET = "Secr3t-Redis-Pass"


def leaky_reaction(event: events.ProductAdded) -> None:
    """A reaction whose error quotes the password, as a careless driver might."""
    raise RuntimeError(f"cannot reach redis://:{SECRET}@cache:6379/0 (password {SECRET})")


def test_a_failed_event_keeps_its_error_without_the_secret(engine: Engine):
    for metadata in (db.metadata, views.metadata):  # the read models are written inline
        metadata.drop_all(engine)
        metadata.create_all(engine)
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        redis_url=f"redis://:{SECRET}@127.0.0.1:6379/0",
    )
    shop = bootstrap(
        settings,
        event_handlers={events.ProductAdded: [leaky_reaction]},
        retry=RetryPolicy(event_attempts=1, initial_wait=0.001, max_wait=0.002),
    )
    try:
        shop.bus.handle(c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(2_000, "EUR")))
        tables = db.seedwork_tables
        (failure,) = SqlFailedEvents(shop.engine, tables.failed_events, shop.serializer).unreplayed(
            5
        )
    finally:
        shop.close()
        db.metadata.drop_all(engine)
    assert SECRET not in failure.error
    assert "redis://:***@cache:6379/0" in failure.error
