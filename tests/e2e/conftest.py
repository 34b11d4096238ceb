"""End-to-end fixtures: a real ``shop run`` process on a fresh database and channel prefix."""

from __future__ import annotations

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


@pytest.fixture
def start_shop(
    tmp_path: Path, database_url: str, redis_url: str, channel_prefix: str
) -> Iterator[Callable[..., ShopProcess]]:
    """Start ``shop`` sub-commands against this test's database, Redis and prefix."""
    started: list[ShopProcess] = []

    def start(*args: str, **env: str) -> ShopProcess:
        environment = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SHOP_CHANNEL_PREFIX": channel_prefix,
            "SHOP_LOG_LEVEL": "INFO",
            "SHOP_AUTH_SECRET": auth.SECRET,
            **env,
        }
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
