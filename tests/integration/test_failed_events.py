"""Event handlers that kept failing: listed, and replayed once the cause is fixed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import StatementError

from seedwork.core.retry import RetryPolicy
from shop.adapters import tables as db
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.domain import commands as c
from shop.domain import events
from shop.domain.money import Money
from shop.entrypoints.cli.failed_events import (
    failed_events_command,
    list_failures,
    replay_failure,
)
from shop.service_layer.unit_of_work import ShopUnitOfWork
from shop.views import tables as views

BROKEN = {"printer": True}


def print_label(event: events.ProductAdded, uow: ShopUnitOfWork) -> None:
    """A reaction that fails while the printer is broken."""
    with uow:
        if BROKEN["printer"]:
            raise RuntimeError("the printer is on fire")
        uow.commit()


@pytest.fixture
def new_shop(engine: Engine) -> Iterator[Callable[[], Shop]]:
    for tables in (db.metadata, views.metadata):
        tables.drop_all(engine)
        tables.create_all(engine)
    url = engine.url.render_as_string(hide_password=False)
    BROKEN["printer"] = True

    def make() -> Shop:
        return bootstrap(
            Settings(database_url=url),
            event_handlers={events.ProductAdded: [print_label]},
            retry=RetryPolicy(event_attempts=2, initial_wait=0.001, max_wait=0.002),
        )

    yield make
    db.metadata.drop_all(engine)


def run(shop: Shop, action: str, *, limit: int = 50, id: int = 0) -> int:
    if action == "list":
        return failed_events_command(shop, lambda shop, store: list_failures(store, limit))
    return failed_events_command(shop, lambda shop, store: replay_failure(shop, store, id))


def test_a_failed_reaction_is_listed_and_replayed_once_its_cause_is_fixed(new_shop, capsys):
    shop = new_shop()
    shop.bus.handle(c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(2_000, "EUR")))
    shop.close()
    assert run(new_shop(), "list", limit=50) == 0
    listed = capsys.readouterr().out
    assert "ProductAdded" in listed and "print_label" in listed
    assert "RuntimeError: the printer is on fire" in listed and "1 of 1 failed events" in listed

    assert run(new_shop(), "replay", id=1) == 1
    again = "replay of 1 failed again: RuntimeError: the printer is on fire"
    assert again in capsys.readouterr().err
    assert run(new_shop(), "list", limit=50) == 0
    assert "2 of 2 failed events" in capsys.readouterr().out

    BROKEN["printer"] = False
    assert run(new_shop(), "replay", id=1) == 0
    assert capsys.readouterr().out.startswith("replayed 1: ")
    assert run(new_shop(), "list", limit=50) == 0
    assert capsys.readouterr().out == "no failed events\n"
    assert run(new_shop(), "replay", id=2) == 0  # settled by the same replay
    assert "was replayed at" in capsys.readouterr().out


def test_an_unknown_failed_event_is_reported(new_shop, capsys):
    assert run(new_shop(), "replay", id=404) == 1
    assert "no failed event with id 404" in capsys.readouterr().err


def test_a_failed_reaction_keeps_the_kind_of_a_database_error_never_its_sql(new_shop, capsys):
    def leaky(event: events.ProductAdded, uow: ShopUnitOfWork) -> None:
        raise StatementError(
            "value too long",
            "INSERT INTO labels (text) VALUES (%(text)s)",
            {"text": "the-customers-private-note"},
            ValueError("value too long for type character varying(10)"),
        )

    shop = bootstrap(
        new_shop().settings,
        event_handlers={events.ProductAdded: [leaky]},
        retry=RetryPolicy(event_attempts=1, initial_wait=0.001, max_wait=0.002),
    )
    shop.bus.handle(c.AddProduct(sku="LAMP", name="Lamp", price=Money.of(2_000, "EUR")))
    shop.close()
    assert run(new_shop(), "list", limit=50) == 0
    listed = capsys.readouterr().out
    assert "StatementError" in listed
    assert "INSERT" not in listed and "the-customers-private-note" not in listed
