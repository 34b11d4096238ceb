"""Heartbeats: a long-running role (``shop run``, ``shop consumer``, ``shop relay``) shows it lives.

While the role runs, a thread rewrites ``var/heartbeat/<role>`` every few seconds with its process
id and the time, as long as the role's own threads are all alive; it removes the file when the
role stops. ``shop health --role ROLE`` (docker-compose's health check) reads it: a beat younger
than ``STALE_AFTER`` from a live process is health, anything else is exit 1 and says why. One
process per role and directory (one per container).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import attrs

log = logging.getLogger("shop")

DIRECTORY = Path("var") / "heartbeat"
ROLES = ("run", "consumer", "relay")
INTERVAL = 5.0
STALE_AFTER = 15.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


@attrs.frozen
class Health:
    """What a role's heartbeat says: ``ok``, and in words."""

    ok: bool
    message: str


def write_beat(path: Path, pid: int, at: float) -> None:
    """Replace the heartbeat file at once (a reader never sees half of it)."""
    partial = path.with_name(f".{path.name}.{pid}")
    partial.write_text(json.dumps({"pid": pid, "at": at}))
    partial.replace(path)


def read_health(
    role: str,
    directory: Path = DIRECTORY,
    *,
    now: float | None = None,
    stale_after: float = STALE_AFTER,
    pid_alive: Callable[[int], bool] = _pid_alive,
) -> Health:
    """The health of ``role`` as its heartbeat file in ``directory`` tells it."""
    path = directory / role
    try:
        beat = json.loads(path.read_text())
        pid, at = int(beat["pid"]), float(beat["at"])
    except FileNotFoundError:
        return Health(False, f"{role}: no heartbeat in {path} (not running in this directory?)")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Health(False, f"{role}: unreadable heartbeat in {path}: {error}")
    age = (time.time() if now is None else now) - at
    if not pid_alive(pid):
        return Health(False, f"{role}: process {pid} is gone (last beat {age:.1f} s ago)")
    if age > stale_after:
        return Health(
            False,
            f"{role}: process {pid} last beat {age:.1f} s ago (stale after {stale_after:.0f} s)",
        )
    return Health(True, f"{role}: alive, process {pid}, last beat {age:.1f} s ago")


def health_command(role: str) -> int:
    """``shop health --role ROLE``: exit 0 when the role beats in this directory, else 1."""
    health = read_health(role)
    print(
        health.message if health.ok else f"shop: {health.message}",
        file=sys.stdout if health.ok else sys.stderr,
    )
    return 0 if health.ok else 1


def start_heartbeat(
    role: str,
    stop: threading.Event,
    alive: Callable[[], bool] = lambda: True,
    *,
    directory: Path = DIRECTORY,
    interval: float = INTERVAL,
) -> threading.Thread:
    """Beat now and every ``interval`` while ``alive()``, until ``stop``; then remove the file."""
    path = directory / role

    def beat() -> None:
        try:
            while True:
                if alive():
                    try:
                        directory.mkdir(parents=True, exist_ok=True)
                        write_beat(path, os.getpid(), time.time())
                    except OSError as error:  # a health check fails; the role carries on
                        log.warning("cannot write the heartbeat %s: %s", path, error)
                if stop.wait(interval):
                    break
        finally:
            path.unlink(missing_ok=True)

    thread = threading.Thread(target=beat, name=f"{role}-heartbeat", daemon=True)
    thread.start()
    return thread
