"""Starting and stopping ``shop run`` with its embedded Redis: it stops whatever it started.

Each test runs ``shop run`` in a directory of its own, where the embedded Redis keeps its files: a
redis-server left behind is a process still working in that directory.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.e2e.processes import running_in, wait_until_none_run_in
from tests.e2e.server import ShopProcess
from tests.waiting import eventually

pytestmark = pytest.mark.redis

RunShop = Callable[..., ShopProcess]


def _environment(channel_prefix: str, **extra: str) -> dict[str, str]:
    """The test's environment less REDIS_URL and DATABASE_URL: embedded Redis, SQLite in var/."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "DATABASE_URL"}
    }
    return {**env, "SHOP_CHANNEL_PREFIX": channel_prefix, "SHOP_LOG_LEVEL": "INFO", **extra}


@pytest.fixture
def embedded_shop(tmp_path: Path, channel_prefix: str) -> Iterator[RunShop]:
    """Start ``shop run`` with its embedded Redis in ``tmp_path``; stopped after the test."""
    started: list[ShopProcess] = []

    def start(*args: str) -> ShopProcess:
        process = ShopProcess(["run", "--port", "0", *args], {}, tmp_path)
        process.env = _environment(channel_prefix)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def _shop(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shop.entrypoints.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_busy_port_exits_1_in_one_line_and_leaves_no_redis_server(
    tmp_path: Path, channel_prefix: str
):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = _environment(channel_prefix)
        answer = _shop(tmp_path, env, "run", "--port", str(port))
    assert answer.returncode == 1, answer.stderr
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1, answer.stderr
    assert f"127.0.0.1:{port}" in lines[0]
    assert "in use" in lines[0]
    assert wait_until_none_run_in(tmp_path) == []
    assert not (tmp_path / "var" / "redis.sock").exists()


def test_a_start_that_fails_after_the_embedded_redis_started_stops_it(
    tmp_path: Path, channel_prefix: str
):
    nowhere = "postgresql+psycopg://postgres@127.0.0.1:1/shop"  # nothing listens on port 1
    answer = _shop(tmp_path, _environment(channel_prefix, DATABASE_URL=nowhere), "run")
    assert answer.returncode == 1, answer.stderr
    assert "started embedded redis" in answer.stderr  # it got that far
    assert wait_until_none_run_in(tmp_path) == []
    assert not (tmp_path / "var" / "redis.sock").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_shop_run_at_once_saying_what_it_waits_for(
    embedded_shop: RunShop, tmp_path: Path, sig: signal.Signals
):
    process = embedded_shop()
    assert requests.get(f"{process.url}/health", timeout=5).status_code == 200
    began = time.monotonic()
    status = process.stop(sig)
    took = time.monotonic() - began
    assert status == 0, process.log()
    assert took < 4.0, f"took {took:.1f} s:\n{process.log()}"
    assert re.search(r"stopping: waiting up to \d+ s for \w+", process.log())
    assert "stopping the embedded redis" in process.log()
    assert wait_until_none_run_in(tmp_path) == []


def test_a_killed_shop_run_leaves_no_redis_server(embedded_shop: RunShop, tmp_path: Path):
    process = embedded_shop()
    process.kill()
    assert wait_until_none_run_in(tmp_path) == []


def test_a_second_shop_run_in_the_same_directory_refuses_and_leaves_the_first_running(
    embedded_shop: RunShop, tmp_path: Path, channel_prefix: str
):
    first = embedded_shop()
    answer = _shop(tmp_path, _environment(channel_prefix), "run", "--port", "0")
    assert answer.returncode == 1, answer.stderr
    (line,) = answer.stderr.strip().splitlines()
    assert line.startswith("shop: a Redis server already listens on"), line
    assert requests.get(f"{first.url}/health", timeout=5).json()["redis"] == "ok"


def test_a_socket_left_by_a_dead_redis_server_is_replaced(embedded_shop: RunShop, tmp_path: Path):
    (tmp_path / "var").mkdir()
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(tmp_path / "var" / "redis.sock"))  # the file stays; nothing listens
    process = embedded_shop()
    assert requests.get(f"{process.url}/health", timeout=5).json()["redis"] == "ok"


def test_dead_letters_finds_the_embedded_redis_of_a_running_shop_run(
    embedded_shop: RunShop, tmp_path: Path, channel_prefix: str
):
    process = embedded_shop()
    process.wait_for_log("consumer subscribed")
    client = redis.Redis(unix_socket_path=str(tmp_path / "var" / "redis.sock"))
    try:
        client.publish(f"{channel_prefix}.commands.add_batch", b"this is not json")
        eventually(lambda: client.xlen(f"{channel_prefix}.dead_letters"), explain=process.log)
    finally:
        client.close()
    answer = _shop(tmp_path, _environment(channel_prefix), "dead-letters", "list")
    assert answer.returncode == 0, answer.stderr
    assert "this is not json" in answer.stdout
    assert "1 of 1 dead letters" in answer.stdout
    assert running_in(tmp_path)  # the shop run and its redis-server go on


def test_shop_api_listens_on_127_0_0_1_by_default(start_shop: Callable[..., ShopProcess]):
    process = start_shop("api", "--port", "0", "--workers", "1")
    line = process.wait_for_log(r"Listening at: http://\S+:\d+", timeout=30)
    match = re.search(r"Listening at: http://(\S+):(\d+)", line)
    assert match is not None
    assert match.group(1) == "127.0.0.1"
    url = f"http://127.0.0.1:{match.group(2)}/health"
    status = eventually(
        lambda: requests.get(url, timeout=5).status_code,
        timeout=15,
        every=0.1,
        ignoring=(requests.ConnectionError,),
        explain=process.log,
    )
    assert status == 200
