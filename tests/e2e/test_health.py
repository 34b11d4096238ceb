"""``shop health --role ROLE``, docker-compose's health check of the consumer and the relay."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.server import ShopProcess


def _health(cwd: Path, role: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", "health", "--role", role],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("role", ["consumer", "relay"])
def test_shop_health_says_whether_a_role_lives_in_this_directory(
    start_shop: Callable[..., ShopProcess], tmp_path: Path, role: str
):
    before = _health(tmp_path, role)
    assert before.returncode == 1
    assert "no heartbeat" in before.stderr

    process = start_shop(role)
    deadline = time.monotonic() + 30
    while (answer := _health(tmp_path, role)).returncode != 0:
        assert time.monotonic() < deadline, f"{answer.stderr}\n{process.log()}"
        time.sleep(0.2)
    assert f"{role}: alive" in answer.stdout

    assert process.stop() == 0, process.log()
    after = _health(tmp_path, role)
    assert after.returncode == 1, after.stdout
