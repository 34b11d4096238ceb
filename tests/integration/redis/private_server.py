"""A private ``redis-server`` on a free port, which a test may stop and start again.

Tests that take Redis away use this, never the machine's shared server.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote

from redis import Redis

from tests import services
from tests.waiting import eventually


def free_port() -> int:
    """A local TCP port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """One redis-server process without persistence: stopped, it forgets everything."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        self.port = free_port()
        self.password = password
        login = f":{quote(password, safe='')}@" if password else ""
        self.url = f"redis://{login}127.0.0.1:{self.port}/0"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        """Start the server and wait until it answers."""
        binary = shutil.which("redis-server")
        if binary is None:
            # Fails under SHOP_REQUIRE_SERVICES=1 (CI), skips with the reason elsewhere.
            services.unavailable("redis-server", FileNotFoundError("not on PATH"))
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                *(["--requirepass", self.password] if self.password else []),
            ],
            cwd=self._directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis(port=self.port, password=self.password, socket_connect_timeout=0.2)
        eventually(
            client.ping,
            every=0.02,
            ignoring=(Exception,),
            explain=lambda: "private redis-server did not start",
        )
        client.close()
        return self

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)
        self._process = None

    def client(self) -> Redis:
        """A fresh client of this server."""
        return Redis(port=self.port, password=self.password, socket_timeout=5)
