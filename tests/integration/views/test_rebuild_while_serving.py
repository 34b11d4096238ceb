"""``shop views rebuild`` builds beside the live views: readers and writers keep going meanwhile,
waiting at most for the swap, and nothing committed during the rebuild is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text, update

from shop.bootstrap import Shop
from shop.domain import commands as c
from shop.domain.money import Money
from shop.entrypoints.cli.views_rebuild import rebuild_views
from shop.views.projections import rebuild
from shop.views.queries import SqlReadModels
from shop.views.tables import customer_order_view
from tests.integration.views.test_read_models import everything, placed_order, stocked

pytestmark = pytest.mark.slow

#: Readers and writers may wait for the swap, never for the build (well over a second here).
MOST_WAIT = 0.5


class SlowStream:
    """A progress stream that takes its time: the rebuild pauses at each chunk, as a long one
    (26,000 events) would take time anyway."""

    def __init__(self) -> None:
        self.text: list[str] = []

    def write(self, chunk: str) -> int:
        self.text.append(chunk)
        time.sleep(0.08)
        return len(chunk)

    def flush(self) -> None:
        pass


def busy_history(shop: Shop) -> None:
    stocked(shop)
    for n in range(8):
        placed_order(shop, f"o-{n}", 1 + n % 3)
    for n in range(12):
        shop.bus.handle(c.AddProduct(sku=f"OLD-{n}", name="Old", price=Money.of(100 + n, "EUR")))


class Worker:
    """Runs ``step`` again and again until stopped, timing each run."""

    def __init__(self, step: Callable[[int], Any], pause: float = 0.01) -> None:
        self.step = step
        self.pause = pause
        self.waits: list[float] = []
        self.results: list[Any] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            started = time.monotonic()
            self.results.append(self.step(n))
            self.waits.append(time.monotonic() - started)
            n += 1
            time.sleep(self.pause)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def test_readers_get_the_old_views_while_a_rebuild_runs_and_then_the_same_views_rebuilt(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(rebuild, "CHUNK", 4)
    busy_history(shop)
    views = SqlReadModels(shop.engine)
    expected = everything(shop)  # maintained event by event
    answer = (views.stock("RED-CHAIR"), views.customer_orders("ann"), views.order("o-3"))
    with shop.engine.begin() as connection:  # damage only what the readers do not look at
        connection.execute(text("DELETE FROM product_view WHERE sku LIKE 'OLD-%'"))
    damaged = everything(shop)
    reads = lambda _: (views.stock("RED-CHAIR"), views.customer_orders("ann"), views.order("o-3"))  # noqa: E731
    started = time.monotonic()
    with Worker(reads) as reader:
        rebuild_views(shop, SlowStream())  # type: ignore[arg-type]
    took = time.monotonic() - started
    assert took > 3 * MOST_WAIT, f"the rebuild was too quick to show anything ({took:.2f} s)"
    assert len(reader.results) > 10
    assert max(reader.waits) < MOST_WAIT, f"a read waited {max(reader.waits):.2f} s"
    assert all(result == answer for result in reader.results)
    assert damaged != expected
    assert everything(shop) == expected


def test_changes_committed_during_a_rebuild_are_in_the_rebuilt_views(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(rebuild, "CHUNK", 4)
    busy_history(shop)
    views = SqlReadModels(shop.engine)

    def write(n: int) -> str:
        sku = f"NEW-{n}"
        shop.bus.handle(c.AddProduct(sku=sku, name="New", price=Money.of(200 + n, "EUR")))
        shop.bus.handle(c.ChangeProductPrice(sku="OLD-1", price=Money.of(300 + n, "EUR")))
        return sku

    with Worker(write, pause=0.1) as writer:
        rebuild_views(shop, SlowStream())  # type: ignore[arg-type]
    assert len(writer.results) > 10
    assert max(writer.waits) < MOST_WAIT, f"a write waited {max(writer.waits):.2f} s"
    for n, sku in enumerate(writer.results):
        product = views.product(sku)
        assert product is not None and product["price"]["amount"] == 200 + n
    last_price = 300 + len(writer.results) - 1
    assert views.product("OLD-1")["price"]["amount"] == last_price  # type: ignore[index]
    # What the rebuild and the live projections left equals a rebuild with nothing moving.
    after = everything(shop)
    with shop.engine.begin() as connection:
        connection.execute(update(customer_order_view).values(status="lost"))
    rebuild_views(shop, SlowStream())  # type: ignore[arg-type]
    assert everything(shop) == after
