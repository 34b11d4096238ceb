"""Finding the processes a test left running: those whose working directory is the test's own.

(A mark in the environment would not do: redis-server overwrites its environment with its title.)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tests.waiting import eventually


def running_in(directory: Path) -> list[str]:
    """The live (not zombie) processes working in ``directory`` or below, with their commands."""
    root = str(directory.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if (cwd == root or cwd.startswith(root + os.sep)) and state not in {"Z", "X"}:
            found.append(f"{entry.name} in {cwd}: {command}")
    return found


def wait_until_none_run_in(directory: Path, timeout: float = 5.0) -> list[str]:
    """Wait for the processes working in ``directory`` to end; returns those left at the timeout."""
    with contextlib.suppress(AssertionError):
        eventually(lambda: not running_in(directory), timeout, every=0.05)
    return running_in(directory)
