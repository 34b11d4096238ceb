"""Fixtures shared by every test layer."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from shop import auth_config
from shop.entrypoints.http.app import ShopFlask
from tests import auth, services


@pytest.fixture(autouse=True, scope="session")
def _staff_by_default() -> Iterator[None]:
    """Every test runs with the tests' auth secret, and Flask test clients authenticate as staff.

    Session-wide, so module fixtures see it too. A test of another principal sends its own
    ``Authorization`` header or uses a client without one
    (``tests.unit.entrypoints.conftest.client_as``); the processes the e2e tests start inherit the
    secret.
    """
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as directory:
        patch.setenv("SHOP_AUTH_SECRET", auth.SECRET)
        # Settings built in code (not from the environment) find the secret where `shop run`
        # would have left it.
        secret_file = Path(directory) / "auth-secret"
        secret_file.write_text(auth.SECRET)
        patch.setattr(auth_config, "SECRET_FILE", secret_file)
        patch.setattr(ShopFlask, "test_client_class", auth.StaffClient)
        yield


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test session's own, dropped at the end."""
    with services.fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server's URL."""
    yield from services.redis_server_url()


@pytest.fixture
def redis(redis_url: str, channel_prefix: str) -> Iterator[Redis]:
    """A client of the real Redis; the test's keys are deleted afterwards."""
    client = Redis.from_url(redis_url, socket_timeout=5)
    yield client
    keys = list(client.scan_iter(match=f"{channel_prefix}.*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def channel_prefix() -> str:
    """A channel prefix of this test's own, so tests never hear each other or a running app."""
    return f"test-{uuid.uuid4().hex[:10]}"
