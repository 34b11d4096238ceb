"""``shop run``: migrations, the API, the consumer, the relay and the recovery sweep in one process.

Whatever it starts, it stops, on every way out (a busy port, a failed migration, a signal): each
start registers its stop on an exit stack, which unwinds in reverse — the HTTP server, then the
threads (given ``GRACE`` seconds to finish their current message), then the embedded Redis, then
the connection pools. The port is taken before anything else starts, so a busy port costs nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from errno import EADDRINUSE

import attrs
from werkzeug.serving import BaseWSGIServer

from shop.adapters.tokens import TokenVerifier
from shop.bootstrap import bootstrap
from shop.config import Settings
from shop.entrypoints.embedded_redis import EmbeddedRedis, embedded_url
from shop.entrypoints.heartbeat import start_heartbeat
from shop.entrypoints.http.app import create_app
from shop.entrypoints.http.dev_server import http_server
from shop.entrypoints.workers import start_workers
from shop.errors import StartupFailed
from shop.migrations import upgrade
from shop.redaction import redact_url

log = logging.getLogger("shop")
# The contract promises the ready line whatever SHOP_LOG_LEVEL says: this logger's own level
# lets it through to the handlers even when the root logger is set to WARNING or higher.
ready_log = logging.getLogger("shop.ready")
ready_log.setLevel(logging.INFO)

#: Seconds the threads get after a signal to finish what they hold; a second signal cuts it short.
GRACE = 5.0


def run_all(settings: Settings, stop: threading.Event, *, host: str, port: int) -> int:
    """Serve until ``stop`` is set; exit status 1 with one line when it cannot start."""
    failed = threading.Event()
    try:
        with contextlib.ExitStack() as started:
            try:
                _start(settings, stop, started, failed, host=host, port=port)
                stop.wait()
            finally:
                stop.set()  # what started stops too, also when starting failed half-way
        if failed.is_set():
            log.critical("shop stopped: a command listener kept dying (see above)")
            return 1
        return 0
    except StartupFailed as error:
        print(f"shop: {error}", file=sys.stderr)
        return 1


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        hint = (
            "; another program has it: choose another --port" if error.errno == EADDRINUSE else ""
        )
        raise StartupFailed(f"cannot listen on {host}:{port}: {reason}{hint}") from None


def _start(
    settings: Settings,
    stop: threading.Event,
    started: contextlib.ExitStack,
    failed: threading.Event,
    *,
    host: str,
    port: int,
) -> None:

    listening = started.enter_context(_listen(host, port))
    tokens = TokenVerifier.from_settings(settings.auth, create=True)
    embedded = settings.redis_url is None
    if embedded:
        settings = attrs.evolve(settings, redis_url=embedded_url())
    shop = bootstrap(settings)
    started.callback(shop.close)
    if embedded:
        redis = EmbeddedRedis.start()
        started.callback(redis.stop)
        log.info("started embedded redis at %s", redis.url)
    upgrade(shop.engine)
    server = http_server(host, port, create_app(shop=shop, tokens=tokens), fd=listening.fileno())
    started.callback(server.server_close)
    threads = start_workers(shop, stop, failed=failed)
    http = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True
    )
    http.start()
    threads.append(http)
    started.callback(_finish, server, threads)
    started.callback(start_heartbeat("run", stop, lambda: all(t.is_alive() for t in threads)).join)
    bound_host, bound_port = server.server_address[:2]
    # Said once the start succeeded: a failed start prints only what failed.
    if settings.auth.secret is None and settings.auth.public_key_file is None:
        log.info(
            "access tokens are signed with the secret in var/auth-secret; get one with: "
            "shop tokens issue --role staff --subject YOU"
        )
    ready_log.info(
        "shop ready http://%s:%s redis=%s database=%s",
        bound_host,
        bound_port,
        redact_url(settings.redis_url or ""),
        redact_url(shop.engine.url.render_as_string(hide_password=False)),
    )


def _finish(server: BaseWSGIServer, threads: list[threading.Thread]) -> None:
    """Stop serving; wait up to ``GRACE`` seconds for the threads, saying which; leave the late."""
    waiting = [thread.name for thread in threads if thread.is_alive()]
    log.info("stopping: waiting up to %.0f s for %s", GRACE, ", ".join(waiting))
    deadline = time.monotonic() + GRACE
    server.shutdown()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    late = [thread.name for thread in threads if thread.is_alive()]
    if late:
        log.warning("stopped without waiting longer for %s", ", ".join(late))
