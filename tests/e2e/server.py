"""Real ``shop`` processes for end-to-end tests: started, awaited, stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from tests.waiting import eventually

READY = re.compile(r"shop ready (http://\S+) redis=(\S+) database=(\S+)")


class ShopProcess:
    """A ``shop`` sub-command running in its own process, its log collected in the background."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.args = args
        self.env = {**os.environ, **env}
        self.cwd = cwd
        self.lines: list[str] = []
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> ShopProcess:
        """Start the process and wait for its ready line (for ``run``) or for it to be alive."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shop.entrypoints.cli", *self.args],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if self.args[0] == "run" and not self._ready.wait(timeout):
            self.stop()
            raise AssertionError("shop run never became ready:\n" + self.log())
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            match = READY.search(line)
            if match:
                self.url = match.group(1)
                self._ready.set()

    def log(self) -> str:
        """Everything the process printed so far."""
        return "".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 10.0) -> str:
        """Wait until a log line matches ``pattern``; return it."""
        compiled = re.compile(pattern)

        def matching() -> str | None:
            return next((line for line in list(self.lines) if compiled.search(line)), None)

        return eventually(
            matching, timeout, explain=lambda: f"no log line matching {pattern!r}:\n{self.log()}"
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the process and wait for it; returns its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything."""
        self.stop(signal.SIGKILL)
