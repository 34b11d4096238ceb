"""A private PostgreSQL cluster (its own data directory and port), which a test may stop and start.

Tests that take the database away use this, never the machine's shared server. The binaries
are found under ``/usr/lib/postgresql/*/bin`` (or ``SHOP_TEST_POSTGRES_BIN``); ``initdb``
refuses to run as root, so under root the cluster runs as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests import services
from tests.integration.redis.private_server import free_port


def _bin_directory() -> Path | None:
    configured = os.environ.get("SHOP_TEST_POSTGRES_BIN")
    candidates = [configured] if configured else glob.glob("/usr/lib/postgresql/*/bin")
    found = [Path(c) for c in candidates if (Path(c) / "pg_ctl").exists()]
    if not found:
        return None
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


class PrivatePostgres:
    """One PostgreSQL cluster of a test's own, in a temporary directory, on a free port."""

    def __init__(self) -> None:
        binaries = _bin_directory()
        if binaries is None:
            # Fails under SHOP_REQUIRE_SERVICES=1 (CI), skips with the reason elsewhere.
            services.unavailable(
                "PostgreSQL binaries", FileNotFoundError("no /usr/lib/postgresql/*/bin/pg_ctl")
            )
        assert binaries is not None
        self._bin = binaries
        self.port = free_port()
        self._directory = Path(tempfile.mkdtemp(prefix="shop-private-pg-"))
        self._data = self._directory / "data"
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            owner = pwd.getpwnam(self._user)
            os.chown(self._directory, owner.pw_uid, owner.pw_gid)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        argv = [str(self._bin / command[0]), *command[1:]]
        if self._user is not None:
            argv = ["runuser", "-u", self._user, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise AssertionError(f"{command[0]} failed ({done.returncode}): {done.stderr}")

    def init(self) -> PrivatePostgres:
        """Create the cluster (trust authentication, superuser ``postgres``)."""
        self._run("initdb", "-D", str(self._data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        return self

    def start(self) -> PrivatePostgres:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self._directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self._data), "-o", options,
                  "-l", str(self._directory / "server.log"), "-w", "-t", "30", "start")  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: open sessions are cut, transactions roll back)."""
        self._run("pg_ctl", "-D", str(self._data), "-m", "fast", "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        """Stop the server if it runs and remove the cluster."""
        if (self._data / "postmaster.pid").exists():
            with contextlib.suppress(AssertionError):
                self.stop()
        shutil.rmtree(self._directory, ignore_errors=True)
