"""``shop views rebuild`` brings damaged read models back, as the API shows them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.e2e.api import Api, unique
from tests.e2e.server import ShopProcess


def test_rebuild_restores_what_the_api_answered(
    shop: ShopProcess, database_url: str, tmp_path: Path
):
    api = Api(shop.url)
    chair = unique("CHAIR")
    api.product(chair, 2_000)
    api.batch(unique("chairs"), chair, 3)
    customer_id = api.customer("silver")
    orders = [api.draft(customer_id, {chair: 2}) for _ in range(3)]
    for order_id in orders:
        api.place(order_id)
    api.call("POST", f"/orders/{orders[0]}/cancel", 200, json={"reason": "duplicate"})
    paths = [f"/orders/{order_id}" for order_id in orders] + [
        f"/stock/{chair}", f"/products/{chair}", f"/customers/{customer_id}",
        f"/customers/{customer_id}/orders",
    ]  # fmt: skip
    before = {path: api.call("GET", path, 200) for path in paths}
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE order_view"))
            connection.execute(text("DELETE FROM batch_view"))
            connection.execute(text("UPDATE customer_order_view SET status = 'lost'"))
    finally:
        engine.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", "views", "rebuild"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "read models rebuilt from" in result.stdout
    assert "100%" in result.stderr and "[" + "#" * 30 + "]" in result.stderr
    assert {path: api.call("GET", path, 200) for path in paths} == before
