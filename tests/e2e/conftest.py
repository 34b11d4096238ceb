"""End-to-end fixtures: a real ``shop run`` process on a fresh database and channel prefix.

Each test gets its own (``shop``, ``start_shop``), unless its module shares one
(``module_shop``: for tests that only touch ids of their own).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests import auth, services
from tests.e2e.server import ShopProcess


@pytest.fixture(autouse=True)
def _requests_as_staff(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP requests of e2e tests carry a staff token unless they say otherwise.

    ``requests.get(url)`` sends it; ``headers={"Authorization": None}`` sends none, and any
    other ``Authorization`` header replaces it.
    """
    original = requests.Session.__init__

    def init(self: requests.Session) -> None:
        original(self)
        self.headers["Authorization"] = auth.bearer()

    monkeypatch.setattr(requests.Session, "__init__", init)


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own."""
    with services.fresh_postgres_database() as url:
        yield url


def _environment(database_url: str, redis_url: str, channel_prefix: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SHOP_CHANNEL_PREFIX": channel_prefix,
        "SHOP_LOG_LEVEL": "INFO",
        "SHOP_AUTH_SECRET": auth.SECRET,
    }


@pytest.fixture
def start_shop(
    tmp_path: Path, database_url: str, redis_url: str, channel_prefix: str
) -> Iterator[Callable[..., ShopProcess]]:
    """Start ``shop`` sub-commands against this test's database, Redis and prefix."""
    started: list[ShopProcess] = []

    def start(*args: str, **env: str) -> ShopProcess:
        environment = {**_environment(database_url, redis_url, channel_prefix), **env}
        process = ShopProcess(list(args) or ["run", "--port", "0"], environment, tmp_path)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def shop(start_shop: Callable[..., ShopProcess]) -> ShopProcess:
    """One all-in-one ``shop run`` process, ready."""
    return start_shop("run", "--port", "0")


@pytest.fixture(scope="module")
def module_shop(
    postgres_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    """One ``shop run`` shared by a module's tests, on a database and prefix of the module's own.

    For modules whose tests read and write only ids of their own (``tests.e2e.api.unique``,
    ids the server makes) and nothing the process shows as a whole: such a module overrides
    ``shop`` with a module-scoped fixture returning this one, and saves a database and a
    process start per test.
    """
    with services.fresh_postgres_database() as database_url:
        environment = _environment(database_url, redis_url, f"test-{uuid.uuid4().hex[:10]}")
        process = ShopProcess(["run", "--port", "0"], environment, tmp_path_factory.mktemp("shop"))
        try:
            yield process.start()
        finally:
            process.stop()
