"""``shop health --role ROLE``, docker-compose's health check of the consumer and the relay."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.server import ShopProcess
from tests.waiting import eventually


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
    answers: list[subprocess.CompletedProcess[str]] = []

    def healthy() -> bool:
        answers.append(_health(tmp_path, role))
        return answers[-1].returncode == 0

    eventually(
        healthy, timeout=30, every=0.2, explain=lambda: f"{answers[-1].stderr}\n{process.log()}"
    )
    answer = answers[-1]
    assert f"{role}: alive" in answer.stdout

    assert process.stop() == 0, process.log()
    after = _health(tmp_path, role)
    assert after.returncode == 1, after.stdout
