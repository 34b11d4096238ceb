"""The read models in memory, for unit tests: ``FakeReadModels``.

It answers as ``shop.views.queries.SqlReadModels`` does for the same events, which the contract
test (tests/integration/views/test_read_model_contract.py) pins against both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from seedwork.core.messages import Envelope, Event
from shop.domain import events
from shop.views.documents import money, order_document
from shop.views.queries import View


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
        """Apply a commit's events (as the fake unit of work's ``project``)."""
        projections = self._projections()
        for envelope in envelopes:
            event = envelope.message
            projection = projections.get(type(event)) if isinstance(event, Event) else None
            if projection is not None:
                projection(event)

    def _projections(self) -> dict[type[Event], Callable[..., Any]]:
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
