"""The API over a bus wired to in-memory fakes, and read models fed by the same events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from seedwork.core.bus import MessageBus, RetryPolicy
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Envelope
from seedwork.testing.fakes import FakeDeadLetters
from shop.adapters.fakes import FakeShopStorage
from shop.domain import events
from shop.entrypoints.http.app import create_app
from shop.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, FROM_ENVELOPE
from shop.views.projections import money, order_document
from shop.views.queries import View
from tests import auth

FAST = RetryPolicy(conflict_attempts=3, event_attempts=1, initial_wait=0.0001, max_wait=0.001)


class FakeReadModels:
    """The read models in dicts, projected inline by the fake unit of work at each commit."""

    def __init__(self) -> None:
        self.products: dict[str, View] = {}
        self.customers: dict[str, View] = {}
        self.orders: dict[str, View] = {}
        self.created: list[str] = []
        self.stocks: dict[str, list[events.BatchView]] = {}
        self.reachable = True

    def project(self, envelopes: Sequence[Envelope]) -> None:
        projections = self._projections()
        for envelope in envelopes:
            projection = projections.get(type(envelope.message))
            if projection is not None:
                projection(envelope.message)

    def _projections(self) -> dict[type[events.Event], Callable[..., Any]]:
        return {
            events.ProductAdded: self._product_added,
            events.ProductPriceChanged: self._price_changed,
            events.ProductDiscontinued: self._discontinued,
            events.CustomerRegistered: self._registered,
            events.OrderRevised: self._order_revised,
            events.StockRevised: self._stock_revised,
            events.BatchAdded: self._batch_added,
        }

    def _product_added(self, event: events.ProductAdded) -> None:
        self.products[event.sku] = {
            "sku": event.sku, "name": event.name, "price": money(event.price), "active": True
        }  # fmt: skip

    def _price_changed(self, event: events.ProductPriceChanged) -> None:
        self.products[event.sku]["price"] = money(event.price)

    def _discontinued(self, event: events.ProductDiscontinued) -> None:
        self.products[event.sku]["active"] = False

    def _registered(self, event: events.CustomerRegistered) -> None:
        self.customers[event.customer_id] = {
            "customer_id": event.customer_id, "name": event.name, "email": event.email,
            "tier": event.tier,
        }  # fmt: skip

    def _order_revised(self, event: events.OrderRevised) -> None:
        if event.order_id not in self.orders:
            self.created.append(event.order_id)
        self.orders[event.order_id] = order_document(event)

    def _stock_revised(self, event: events.StockRevised) -> None:
        self.stocks[event.sku] = list(event.batches)

    def _batch_added(self, event: events.BatchAdded) -> None:
        batch = events.BatchView(
            reference=event.reference, eta=event.eta, quantity=event.quantity, allocated=0,
            available=event.quantity,
        )  # fmt: skip
        batches = [*self.stocks.get(event.sku, []), batch]
        self.stocks[event.sku] = sorted(
            batches, key=lambda b: (b.eta is not None, b.eta or date.min, b.reference)
        )

    def product(self, sku: str) -> View | None:
        return self.products.get(sku)

    def customer(self, customer_id: str) -> View | None:
        return self.customers.get(customer_id)

    def customer_orders(self, customer_id: str) -> list[View] | None:
        if customer_id not in self.customers:
            return None
        return [
            {"order_id": o, "status": self.orders[o]["status"], "total": self.orders[o]["total"]}
            for o in reversed(self.created)
            if self.orders[o]["customer_id"] == customer_id
        ]

    def order(self, order_id: str) -> View | None:
        return self.orders.get(order_id)

    def _batch(self, batch: events.BatchView) -> View:
        eta = batch.eta.isoformat() if batch.eta else None
        return {
            "reference": batch.reference, "eta": eta, "quantity": batch.quantity,
            "allocated": batch.allocated, "available": batch.available,
        }  # fmt: skip

    def stock(self, sku: str) -> View | None:
        if sku not in self.stocks and sku not in self.products:
            return None
        batches = [self._batch(batch) for batch in self.stocks.get(sku, [])]
        return {"sku": sku, "available": sum(b["available"] for b in batches), "batches": batches}

    def batch(self, reference: str) -> View | None:
        for sku, batches in self.stocks.items():
            for batch in batches:
                if batch.reference == reference:
                    return {"sku": sku, **self._batch(batch)}
        return None

    def ping(self) -> None:
        if not self.reachable:
            raise ConnectionError("the fake store is unreachable")


def fake_bus(
    views: FakeReadModels, command_handlers: dict[type[Any], Callable[..., Any]] | None = None
) -> MessageBus:
    """The shop's handlers on fakes, whose units of work project into the fake read models."""
    storage = FakeShopStorage()
    return MessageBus(
        command_handlers={**COMMAND_HANDLERS, **(command_handlers or {})},
        event_handlers=EVENT_HANDLERS,
        dependencies=Dependencies(
            factories={"uow": storage.unit_of_work_factory(project=views.project)},
            from_envelope=FROM_ENVELOPE,
        ),
        dead_letters=FakeDeadLetters(),
        retry=FAST,
    )


@pytest.fixture
def views() -> FakeReadModels:
    return FakeReadModels()


@pytest.fixture
def app(views: FakeReadModels) -> Flask:
    return create_app(bus=fake_bus(views), views=views, tokens=auth.verifier())


def client_as(app: Flask, authorization: str | None) -> FlaskClient:
    """A test client sending ``authorization`` with every request (None: no header)."""
    client = app.test_client()
    client.environ_base.pop("HTTP_AUTHORIZATION", None)
    if authorization is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = authorization
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client authenticated as staff (CONTRACT §4), as every test is unless it says otherwise."""
    return client_as(app, auth.bearer())


@pytest.fixture
def anonymous_client(app: Flask) -> FlaskClient:
    """A client sending no token."""
    return client_as(app, None)
