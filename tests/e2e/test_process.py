"""The ``shop`` process itself: start-up, health, configuration errors, clean stop."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import requests

from tests.e2e.server import ShopProcess


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
    assert process.stop() == 0


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
