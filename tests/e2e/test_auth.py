"""Tokens end to end (CONTRACT §1, §4): `shop run` makes a secret, `shop tokens issue` uses it."""

from __future__ import annotations

import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import requests

from tests import auth
from tests.e2e.api import Api, unique
from tests.e2e.server import ShopProcess


def test_the_quick_start_shop_run_then_a_token_from_the_same_directory(
    start_shop: Callable[..., ShopProcess], tmp_path: Path
) -> None:
    shop = start_shop("run", "--port", "0", SHOP_AUTH_SECRET="")
    secret = tmp_path / "var" / "auth-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    shop.wait_for_log(r"shop tokens issue --role staff")
    assert secret.read_text().strip() not in shop.log()

    anonymous = requests.get(f"{shop.url}/stock/ANY", headers={"Authorization": None}, timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="shop"'
    assert anonymous.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{shop.url}/health", headers={"Authorization": None}, timeout=5).ok

    issued = subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", "tokens", "issue", "--role", "staff",
         "--subject", "quick-start"],
        cwd=tmp_path, env={**shop.env, "SHOP_AUTH_SECRET": ""}, capture_output=True, text=True,
        timeout=30, check=True,
    )  # fmt: skip
    staff = Api(shop.url, authorization=f"Bearer {issued.stdout.strip()}")
    sku = unique("QS")
    staff.product(sku, 1250)
    staff.call("GET", f"/stock/{sku}", 200)
    tests_token = requests.get(f"{shop.url}/stock/{sku}", timeout=5)  # the tests' own secret
    assert tests_token.status_code == 401
    assert 'error="invalid_token"' in tests_token.headers["WWW-Authenticate"]


def test_a_customer_sees_only_its_own_orders(shop: ShopProcess) -> None:
    staff = Api(shop.url)
    sku = unique("OWN")
    staff.product(sku, 1000)
    ann, bob = staff.customer(), staff.customer()
    as_ann = Api(shop.url, authorization=auth.customer(ann))
    as_bob = Api(shop.url, authorization=auth.customer(bob))
    order = as_ann.draft(ann, {sku: 1})
    assert as_ann.order(order)["customer_id"] == ann
    as_bob.call("GET", f"/orders/{order}", 404)
    as_bob.call("GET", f"/customers/{ann}", 404)
    as_bob.call("GET", f"/customers/{ann}/orders", 404)
    as_bob.call("POST", "/orders", 403, json={"customer_id": ann})
    assert [
        o["order_id"] for o in as_ann.call("GET", f"/customers/{ann}/orders", 200)["orders"]
    ] == [order]
