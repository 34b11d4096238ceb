"""Heartbeats: what ``shop health --role ROLE`` concludes from the file a role keeps fresh."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from shop.entrypoints.heartbeat import read_health, start_heartbeat, write_beat
from tests.waiting import eventually

NOW = 1_800_000_000.0


def alive(_pid: int) -> bool:
    return True


def gone(_pid: int) -> bool:
    return False


def test_a_fresh_beat_of_a_live_process_is_health(tmp_path: Path):
    write_beat(tmp_path / "consumer", pid=4321, at=NOW - 2)
    health = read_health("consumer", tmp_path, now=NOW, pid_alive=alive)
    assert health.ok
    assert "process 4321" in health.message


def test_no_heartbeat_file_is_not_health_and_names_the_file(tmp_path: Path):
    health = read_health("relay", tmp_path, now=NOW, pid_alive=alive)
    assert not health.ok
    assert str(tmp_path / "relay") in health.message


def test_a_stale_beat_is_not_health(tmp_path: Path):
    write_beat(tmp_path / "relay", pid=4321, at=NOW - 60)
    health = read_health("relay", tmp_path, now=NOW, stale_after=15, pid_alive=alive)
    assert not health.ok
    assert "60.0 s ago" in health.message


def test_a_fresh_beat_of_a_process_that_is_gone_is_not_health(tmp_path: Path):
    write_beat(tmp_path / "consumer", pid=4321, at=NOW - 1)
    health = read_health("consumer", tmp_path, now=NOW, pid_alive=gone)
    assert not health.ok
    assert "4321 is gone" in health.message


def test_an_unreadable_heartbeat_is_not_health(tmp_path: Path):
    (tmp_path / "consumer").write_text("{not json")
    health = read_health("consumer", tmp_path, now=NOW, pid_alive=alive)
    assert not health.ok
    assert "unreadable" in health.message


def test_the_heartbeat_thread_beats_at_once_and_removes_its_file_when_stopped(tmp_path: Path):
    stop = threading.Event()
    thread = start_heartbeat("run", stop, directory=tmp_path, interval=60)
    eventually((tmp_path / "run").exists, timeout=5)
    health = read_health("run", tmp_path)
    assert health.ok, health.message
    assert f"process {os.getpid()}" in health.message
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert not (tmp_path / "run").exists()


def test_no_beat_while_the_role_s_threads_are_not_all_alive(tmp_path: Path):
    stop = threading.Event()
    checks: list[float] = []
    thread = start_heartbeat(
        "run",
        stop,
        lambda: bool(checks.append(time.monotonic())),
        directory=tmp_path,
        interval=0.01,
    )
    eventually(lambda: len(checks) >= 3, timeout=5)  # a beat would follow the first check
    assert not (tmp_path / "run").exists()
    stop.set()
    thread.join(5)
