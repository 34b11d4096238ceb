"""One contract for the read models: the in-memory ``FakeReadModels`` the API's unit tests use
and the real ones (``shop.views``) on SQLite and PostgreSQL give the same answers for the same
event history.

The histories are what the shop's handlers commit (run on the in-memory storage), each event
once and in log order: what the inline projections see. Each read side is given the history
its own way (the real one through ``project``, with log positions, in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from seedwork.core.bus import MessageBus
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Envelope, Message
from seedwork.core.retry import RetryPolicy
from seedwork.testing.fakes import FakeDeadLetters
from shop.adapters.database import create_database_engine
from shop.adapters.fakes import FakeShopStorage
from shop.domain import commands as c
from shop.domain.errors import ShopError
from shop.domain.money import Money
from shop.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, FROM_ENVELOPE
from shop.views import tables
from shop.views.fakes import FakeReadModels
from shop.views.projections.apply import project
from shop.views.queries import ReadModels, SqlReadModels

FAST = RetryPolicy(conflict_attempts=3, event_attempts=1, initial_wait=0.0001, max_wait=0.001)
NEXT_WEEK = date(2026, 12, 8)
LATER = date(2027, 1, 5)


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


def history(*commands: Message, refused_ok: bool = False) -> list[Envelope]:
    """The events the shop commits for ``commands`` (reactions included), in commit order;
    with ``refused_ok``, a command the shop refuses is passed over."""
    committed: list[Envelope] = []
    dead_letters = FakeDeadLetters()
    bus = MessageBus(
        command_handlers=COMMAND_HANDLERS,
        event_handlers=EVENT_HANDLERS,
        dependencies=Dependencies(
            factories={"uow": FakeShopStorage().unit_of_work_factory(project=committed.extend)},
            from_envelope=FROM_ENVELOPE,
        ),
        dead_letters=dead_letters,
        retry=FAST,
    )
    for command in commands:
        try:
            bus.handle(command)
        except ShopError:
            if not refused_ok:
                raise
    assert dead_letters.letters == []
    return committed


class ReadSide(Protocol):
    views: ReadModels

    def apply(self, envelopes: Sequence[Envelope]) -> None: ...


class FakeSide:
    def __init__(self) -> None:
        self.fake = FakeReadModels()
        self.views: ReadModels = self.fake

    def apply(self, envelopes: Sequence[Envelope]) -> None:
        self.fake.project(envelopes)


class SqlSide:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.views: ReadModels = SqlReadModels(engine)
        self.position = 0

    def apply(self, envelopes: Sequence[Envelope]) -> None:
        positioned = []
        for envelope in envelopes:
            self.position += 1
            positioned.append(attrs.evolve(envelope, log_position=self.position))
        with self.engine.begin() as connection:
            project(connection, positioned)


@pytest.fixture(params=["fake", "sqlite", "postgres"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadSide]:
    if request.param == "fake":
        yield FakeSide()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_database_engine(url)
    tables.metadata.drop_all(engine)
    tables.metadata.create_all(engine)
    try:
        yield SqlSide(engine)
    finally:
        engine.dispose()


CATALOG = (
    c.AddProduct(sku="LAMP", name="Lamp", price=eur(2_000)),
    c.AddProduct(sku="DESK", name="Desk", price=eur(15_000)),
    c.RegisterCustomer(customer_id="ann", name="Ann", email="ann@example.com", tier="gold"),
)


def placed(order_id: str, *lines: tuple[str, int], customer_id: str = "ann") -> list[Message]:
    return [
        c.CreateOrder(order_id=order_id, customer_id=customer_id),
        *(c.AddOrderLine(order_id=order_id, sku=sku, quantity=n) for sku, n in lines),
        c.SetShippingAddress(
            order_id=order_id, street="1 Main", city="Lyon", postcode="69001", country="FR"
        ),
        c.PlaceOrder(order_id=order_id),
    ]


def test_a_product_as_it_was_last_changed(side: ReadSide):
    side.apply(
        history(
            *CATALOG,
            c.ChangeProductPrice(sku="LAMP", price=eur(2_500)),
            c.DiscontinueProduct(sku="DESK"),
        )
    )
    assert side.views.product("LAMP") == {
        "sku": "LAMP", "name": "Lamp", "price": {"amount": 2_500, "currency": "EUR"},
        "active": True,
    }  # fmt: skip
    desk = side.views.product("DESK")
    assert desk is not None and desk["active"] is False
    assert side.views.product("VASE") is None


def test_a_customer_and_their_orders_newest_first(side: ReadSide):
    side.apply(
        history(
            *CATALOG,
            c.RegisterCustomer(customer_id="bob", name="Bob", email="bob@example.com"),
            c.AddBatch(reference="lamps", sku="LAMP", quantity=10),
            *placed("o-1", ("LAMP", 1)),
            c.CreateOrder(order_id="o-2", customer_id="ann"),
            c.CancelOrder(order_id="o-1", reason="Changed my mind"),
        )
    )
    assert side.views.customer("ann") == {
        "customer_id": "ann", "name": "Ann", "email": "ann@example.com", "tier": "gold"
    }  # fmt: skip
    orders = side.views.customer_orders("ann")
    assert orders is not None
    assert [(o["order_id"], o["status"]) for o in orders] == [
        ("o-2", "draft"),
        ("o-1", "cancelled"),
    ]
    assert side.views.customer_orders("bob") == []
    assert side.views.customer("nobody") is None
    assert side.views.customer_orders("nobody") is None


def test_a_stock_lists_warehouse_batches_first_then_by_eta(side: ReadSide):
    side.apply(
        history(
            *CATALOG,
            c.AddBatch(reference="lamps-later", sku="LAMP", quantity=5, eta=LATER),
            c.AddBatch(reference="lamps-soon", sku="LAMP", quantity=5, eta=NEXT_WEEK),
            c.AddBatch(reference="lamps-now", sku="LAMP", quantity=2),
            *placed("o-1", ("LAMP", 3)),
        )
    )
    stock = side.views.stock("LAMP")
    assert stock is not None
    assert [(b["reference"], b["allocated"], b["available"]) for b in stock["batches"]] == [
        ("lamps-now", 0, 2),
        ("lamps-soon", 3, 2),
        ("lamps-later", 0, 5),
    ]
    assert stock["available"] == 9
    assert side.views.batch("lamps-soon") == {
        "reference": "lamps-soon", "sku": "LAMP", "eta": "2026-12-08", "quantity": 5,
        "allocated": 3, "available": 2,
    }  # fmt: skip
    assert side.views.stock("DESK") == {"sku": "DESK", "available": 0, "batches": []}
    assert side.views.stock("VASE") is None
    assert side.views.batch("nothing") is None


def test_an_order_as_its_last_revision_shows_it(side: ReadSide):
    side.apply(
        history(
            *CATALOG,
            c.AddBatch(reference="lamps", sku="LAMP", quantity=10),
            *placed("o-1", ("LAMP", 2), ("DESK", 1)),
        )
    )
    order = side.views.order("o-1")
    assert order is not None
    assert order["status"] == "backordered"  # the desk waits for stock
    lines = {line["sku"]: line["batch_reference"] for line in order["lines"]}
    assert lines == {"LAMP": "lamps", "DESK": None}
    assert order["shipping_address"] == {
        "street": "1 Main", "city": "Lyon", "postcode": "69001", "country": "FR"
    }  # fmt: skip
    assert side.views.order("o-2") is None


BUSY_DAY: tuple[Message, ...] = (
    *CATALOG,
    c.RegisterCustomer(customer_id="bob", name="Bob", email="bob@example.com", tier="silver"),
    c.AddBatch(reference="lamps-now", sku="LAMP", quantity=3),
    c.AddBatch(reference="lamps-later", sku="LAMP", quantity=4, eta=LATER),
    *placed("o-1", ("LAMP", 2), ("DESK", 1)),
    *placed("o-2", ("LAMP", 3), customer_id="bob"),
    c.AddBatch(reference="desks", sku="DESK", quantity=1, eta=NEXT_WEEK),
    c.ChangeBatchQuantity(reference="lamps-now", quantity=1),
    c.AddBatch(reference="lamps-spare", sku="LAMP", quantity=5),
    *placed("o-3", ("LAMP", 1)),
    c.ChangeProductPrice(sku="LAMP", price=eur(1_800)),
    c.ShipOrder(order_id="o-3", tracking_number="TRACK-3"),
    c.CancelOrder(order_id="o-2", reason="Too late"),
    c.AddBatch(reference="lamps-more", sku="LAMP", quantity=2),
)


def everything(views: ReadModels) -> dict[str, Any]:
    return {
        "products": [views.product(sku) for sku in ("LAMP", "DESK", "VASE")],
        "customers": [views.customer(who) for who in ("ann", "bob", "eve")],
        "orders of": [views.customer_orders(who) for who in ("ann", "bob", "eve")],
        "orders": [views.order(o) for o in ("o-1", "o-2", "o-3", "o-4")],
        "stocks": [views.stock(sku) for sku in ("LAMP", "DESK", "VASE")],
        "batches": [
            views.batch(reference)
            for reference in (
                *("lamps-now", "lamps-later", "lamps-spare", "lamps-more", "desks", "-"),
                *("b-1", "b-2", "b-3", "b-4"),
            )
        ],
    }


def test_every_answer_after_a_busy_day_is_the_fakes(side: ReadSide):
    events = history(*BUSY_DAY)
    fake = FakeSide()
    fake.apply(events)
    side.apply(events)
    assert everything(side.views) == everything(fake.views)


def test_every_answer_is_the_fakes_when_each_commit_is_projected_apart(side: ReadSide):
    events = history(*BUSY_DAY)
    fake = FakeSide()
    fake.apply(events)
    for envelope in events:
        side.apply([envelope])
    assert everything(side.views) == everything(fake.views)


SKUS = st.sampled_from(["LAMP", "DESK"])
REFERENCES = st.sampled_from(["b-1", "b-2", "b-3", "b-4"])
ORDERS = st.sampled_from(["o-1", "o-2", "o-3"])
COMMANDS = st.one_of(
    st.builds(
        c.AddBatch,
        reference=REFERENCES,
        sku=SKUS,
        quantity=st.integers(1, 4),
        eta=st.sampled_from([None, NEXT_WEEK, LATER]),
    ),
    st.builds(c.ChangeBatchQuantity, reference=REFERENCES, quantity=st.integers(0, 4)),
    st.builds(
        lambda order_id, sku, n, customer: placed(order_id, (sku, n), customer_id=customer),
        ORDERS,
        SKUS,
        st.integers(1, 3),
        st.sampled_from(["ann", "bob"]),
    ),
    st.builds(c.CancelOrder, order_id=ORDERS, reason=st.just("No longer needed")),
    st.builds(c.ShipOrder, order_id=ORDERS, tracking_number=st.just("TRACK")),
    st.builds(c.ChangeProductPrice, sku=SKUS, price=st.builds(eur, st.integers(1, 9_999))),
    st.builds(c.DiscontinueProduct, sku=SKUS),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(COMMANDS, max_size=12))
def test_any_history_reads_the_same_from_the_fake_and_from_sqlite(
    tmp_path: Path, steps: list[Any]
) -> None:
    commands: list[Message] = [
        *CATALOG,
        c.RegisterCustomer(customer_id="bob", name="Bob", email="bob@example.com"),
    ]
    for step in steps:
        commands.extend(step if isinstance(step, list) else [step])
    events = history(*commands, refused_ok=True)
    fake = FakeSide()
    fake.apply(events)
    engine = create_database_engine(f"sqlite:///{tmp_path / 'any.db'}")
    try:
        tables.metadata.drop_all(engine)
        tables.metadata.create_all(engine)
        real = SqlSide(engine)
        real.apply(events)
        assert everything(real.views) == everything(fake.views)
    finally:
        engine.dispose()
