"""The ``shop`` process itself: start-up, health, configuration errors, clean stop."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.e2e.server import ShopProcess


@pytest.fixture(scope="module")
def shop(module_shop: ShopProcess) -> ShopProcess:
    """One ``shop run`` for this module: each test uses ids of its own."""
    return module_shop


def test_shop_run_logs_ready_and_answers_health(shop: ShopProcess):
    answer = requests.get(f"{shop.url}/health", timeout=5)
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_an_unknown_path_is_a_problem_document(shop: ShopProcess):
    answer = requests.get(f"{shop.url}/no-such-thing", timeout=5)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["status"] == 404


def test_sigterm_stops_shop_run_cleanly(start_shop: Callable[..., ShopProcess]):
    process = start_shop("run", "--port", "0")
    assert process.stop() == 0, process.log()


def test_invalid_configuration_exits_2_naming_the_variable(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", "run"],
        env={"SHOP_LOG_LEVEL": "LOUD", "PATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "SHOP_LOG_LEVEL" in result.stderr


@pytest.mark.parametrize("level", ["WARNING", "CRITICAL"])
def test_the_ready_line_is_logged_at_any_log_level(
    start_shop: Callable[..., ShopProcess], level: str
):
    process = start_shop("run", "--port", "0", SHOP_LOG_LEVEL=level)
    assert requests.get(f"{process.url}/health", timeout=5).status_code == 200
    assert process.stop() == 0, process.log()


def test_shop_run_with_its_embedded_redis_stops_cleanly(tmp_path: Path):
    process = ShopProcess(["run", "--port", "0"], {"SHOP_LOG_LEVEL": "INFO"}, tmp_path)
    process.env.pop("REDIS_URL", None)
    process.env.pop("DATABASE_URL", None)
    process.start()
    try:
        assert "redis=unix://" in process.wait_for_log("shop ready")
        assert requests.get(f"{process.url}/health", timeout=5).json()["redis"] == "ok"
    finally:
        status = process.stop()
    assert status == 0, process.log()
    assert "Traceback" not in process.log()
    assert "did not shut down cleanly" not in process.log()
