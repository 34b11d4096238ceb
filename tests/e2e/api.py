"""A small HTTP client for the shop's API in end-to-end tests."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests import auth

ADDRESS = {"street": "1 Main St", "city": "Lyon", "postcode": "69001", "country": "FR"}


def unique(prefix: str) -> str:
    """A sku-shaped id of this test's own."""
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


class Api:
    """Calls the API and checks the status of each answer, as staff unless told otherwise."""

    def __init__(self, url: str, authorization: str | None = None) -> None:
        self.url = url
        self.http = requests.Session()
        # None: the staff token of the tests' secret (which the e2e processes are configured with).
        self.http.headers["Authorization"] = authorization or auth.bearer()

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> Any:
        """Send a request; check ``expect`` when given; return the JSON answer (or None)."""
        answer = self.http.request(method, f"{self.url}{path}", timeout=30, **kwargs)
        if expect is not None:
            assert answer.status_code == expect, (
                f"{method} {path}: {answer.status_code} {answer.text}"
            )
        return answer.json() if answer.content else None

    def product(self, sku: str, amount: int, currency: str = "EUR") -> None:
        price = {"amount": amount, "currency": currency}
        self.call(
            "POST", "/products", 201, json={"sku": sku, "name": f"{sku} name", "price": price}
        )

    def batch(self, reference: str, sku: str, quantity: int, eta: str | None = None) -> None:
        body = {"reference": reference, "sku": sku, "quantity": quantity, "eta": eta}
        assert self.call("POST", "/batches", 201, json=body) == {"reference": reference}

    def customer(self, tier: str = "bronze") -> str:
        body = {"name": "Ann Example", "email": "ann@example.com", "tier": tier}
        return str(self.call("POST", "/customers", 201, json=body)["customer_id"])

    def draft(self, customer_id: str, lines: dict[str, int]) -> str:
        answer = self.http.post(f"{self.url}/orders", json={"customer_id": customer_id}, timeout=30)
        assert answer.status_code == 201, answer.text
        order_id = str(answer.json()["order_id"])
        assert answer.headers["Location"] == f"/orders/{order_id}"
        for sku, quantity in lines.items():
            self.call(
                "POST", f"/orders/{order_id}/lines", 201, json={"sku": sku, "quantity": quantity}
            )
        self.call("PUT", f"/orders/{order_id}/shipping-address", 200, json=ADDRESS)
        return order_id

    def place(self, order_id: str) -> dict[str, Any]:
        placed: dict[str, Any] = self.call("POST", f"/orders/{order_id}/place", 202)
        return placed

    def order(self, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/orders/{order_id}", 200)
        return found

    def stock(self, sku: str) -> dict[str, Any]:
        found: dict[str, Any] = self.call("GET", f"/stock/{sku}", 200)
        return found
