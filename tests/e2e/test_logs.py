"""What a running shop writes: one format for every line, request ids on them, no secret anywhere.

``shop run`` talks to a private Redis that requires a password and to PostgreSQL with a
password in its URL (trust authentication ignores it, the shop still holds it); every line it
logs, every answer and every dead letter is searched for both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from seedwork.redis.channels import Channels
from tests.e2e.server import ShopProcess
from tests.integration.redis.private_server import PrivateRedis, free_port
from tests.waiting import eventually

REDIS_SECRET = "R3dis-Pa55w0rd"
DATABASE_SECRET = "Pg-Pa55w0rd-x"
SECRETS = (REDIS_SECRET, DATABASE_SECRET)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of this test's own that refuses clients without the password."""
    server = PrivateRedis(tmp_path, password=REDIS_SECRET).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def secret_env(private_redis: PrivateRedis, database_url: str) -> dict[str, str]:
    """Settings whose URLs both carry a password."""
    url = make_url(database_url).set(password=DATABASE_SECRET)
    return {
        "REDIS_URL": private_redis.url,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SHOP_LOG_LEVEL": "DEBUG",
    }


def drive(url: str) -> list[requests.Response]:
    """A few requests, most of them failing one way or another."""
    answers = [
        requests.get(f"{url}/health", timeout=5),
        requests.post(
            f"{url}/products",
            json={"sku": "LOG-1", "name": "Lamp", "price": {"amount": 1000, "currency": "EUR"}},
            headers={"X-Request-ID": "e2e-request-1"},
            timeout=5,
        ),
        requests.post(f"{url}/products", json={"sku": "LOG-1"}, timeout=5),
        requests.post(
            f"{url}/products",
            data="{not json",
            headers={"Content-Type": "application/json"},
            timeout=5,
        ),
        requests.get(f"{url}/no/such/page", timeout=5),
        requests.delete(f"{url}/products", timeout=5),
        requests.get(f"{url}/orders/{'x' * 500}", timeout=5),
    ]
    return answers


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_in_any_line_answer_or_dead_letter(
    start_shop: Callable[..., ShopProcess],
    secret_env: dict[str, str],
    private_redis: PrivateRedis,
    channel_prefix: str,
    tmp_path: Path,
    log_format: str,
):
    shop = start_shop("run", "--port", "0", SHOP_LOG_FORMAT=log_format, **secret_env)
    shop.wait_for_log("consumer subscribed")
    answers = drive(shop.url)
    redis = private_redis.client()
    channels = Channels(channel_prefix)
    redis.publish(channels.command_channel("AddBatch"), "{not json")
    shop.wait_for_log("dead letter")
    cli = subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", "dead-letters", "list"],
        env={**shop.env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    letters = redis.xrange(channels.dead_letters_stream)
    redis.close()
    assert shop.stop() == 0
    log = shop.log()
    shown = [log, cli.stdout, cli.stderr, repr(letters), *(a.text for a in answers)]
    for secret in SECRETS:
        assert not [text for text in shown if secret in text], secret
    assert "redis=redis://:***@127.0.0.1:" in shop.wait_for_log("shop ready")
    assert [a.status_code for a in answers] == [200, 201, 422, 400, 404, 405, 404]
    assert all(a.headers.get("X-Request-ID") for a in answers)
    assert answers[1].headers["X-Request-ID"] == "e2e-request-1"
    assert "\x1b" not in log
    access = [line for line in shop.lines if "werkzeug" in line]
    assert len(access) >= len(answers)
    assert any("e2e-request-1" in line for line in access)
    if log_format == "json":
        entries = [json.loads(line) for line in shop.lines]
        assert all({"timestamp", "level", "logger", "event"} <= set(e) for e in entries)
        assert all("request_id" in e for e in entries if e["logger"] == "werkzeug")


def test_gunicorn_lines_share_the_format_and_the_request_ids(
    start_shop: Callable[..., ShopProcess], secret_env: dict[str, str], tmp_path: Path
):
    env = {**secret_env, "SHOP_LOG_FORMAT": "json"}
    assert (
        subprocess.run(
            [sys.executable, "-m", "shop.entrypoints.cli", "db", "upgrade"],
            env={**ShopProcess([], env, tmp_path).env},
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        ).returncode
        == 0
    )
    port = free_port()
    api = start_shop("api", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", **env)
    url = f"http://127.0.0.1:{port}"
    eventually(lambda: _answers(url), timeout=15)
    answer = requests.get(f"{url}/no/such/page", headers={"X-Request-ID": "gu-1"}, timeout=5)
    assert answer.headers["X-Request-ID"] == "gu-1"
    line = json.loads(api.wait_for_log('"request_id": "gu-1"'))
    assert line["logger"] == "gunicorn.access"
    assert line["status"] == "404"
    assert line["correlation_id"]
    assert api.stop() == 0
    entries = [json.loads(line) for line in api.lines]
    assert {"gunicorn.error", "gunicorn.access"} <= {entry["logger"] for entry in entries}
    for secret in SECRETS:
        assert secret not in api.log()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False
