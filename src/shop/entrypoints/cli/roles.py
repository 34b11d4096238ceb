"""The long-running roles: ``shop run``, ``shop api``, ``shop consumer``, ``shop relay``, and
``shop health``, which tells whether one of them still beats in this directory."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from seedwork.core.supervision import WorkerGaveUp
from shop.adapters.tokens import token_keys
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.cli.all_in_one import run_all
from shop.entrypoints.cli.params import CONTEXT, Number, OneOf
from shop.entrypoints.cli.runner import Redis, runs
from shop.entrypoints.heartbeat import ROLES, health_command, start_heartbeat
from shop.entrypoints.workers import run_consumer_loop, run_relay_loop

log = logging.getLogger("shop")

PORT = Number("port", 0, 65535, note="0: any free port")
WORKERS = Number("workers", 1, 64)

host_option = click.option("--host", default="127.0.0.1", help="the address to listen on")
port_option = click.option("--port", type=PORT, default=8000, help="the port to listen on")


@click.command("run", context_settings=CONTEXT)
@host_option
@port_option
@runs(redis=Redis.AWAITED)
def run(settings: Settings, host: str, port: int) -> int:
    """All-in-one: applies the migrations, serves the HTTP API, runs the Redis consumer and the
    outbox relay. Without REDIS_URL, starts an embedded Redis on var/redis.sock."""
    return run_all(settings, stop_on_signals(), host=host, port=port)


@click.command("api", context_settings=CONTEXT)
@host_option
@port_option
@click.option("--workers", type=WORKERS, default=2, help="gunicorn worker processes")
@runs(redis=Redis.AWAITED)
def api(settings: Settings, host: str, port: int, workers: int) -> int:
    """Serve the HTTP API under gunicorn."""
    # Deliberately lazy: gunicorn is imported by the command that runs it, never by a consumer
    # or a relay.
    from shop.entrypoints.http.gunicorn_app import serve

    token_keys(settings.auth)  # no key to check tokens with: exit 2 now, not in every worker
    return serve(settings, host=host, port=port, workers=workers)


@click.command("consumer", context_settings=CONTEXT)
@click.option(
    "--workers",
    type=WORKERS,
    default=4,
    help="commands applied side by side, one batch or order per worker",
)
@runs(redis=Redis.AWAITED)
def consumer(settings: Settings, workers: int) -> int:
    """Consume commands from Redis until stopped (SIGTERM or Ctrl-C)."""
    # Its events go out through `shop relay`: wake it at each commit.
    return _run_role(
        "consumer",
        settings,
        lambda shop, stop: run_consumer_loop(shop, stop, workers=workers),
        wake_relays=True,
    )


@click.command("relay", context_settings=CONTEXT)
@runs(redis=Redis.AWAITED)
def relay(settings: Settings) -> int:
    """Relay the outbox to Redis until stopped (SIGTERM or Ctrl-C)."""
    return _run_role("relay", settings, run_relay_loop)


@click.command("health", context_settings=CONTEXT)
@click.option("--role", required=True, type=OneOf(ROLES), help="the role whose heartbeat to read")
@runs()
def health(settings: Settings, role: str) -> int:
    """Exit 0 if the role beats in this directory, 1 if not (a container's health check)."""
    return health_command(role)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so loops finish their current message and stop.

    A second signal does not wait for them: it raises KeyboardInterrupt in the main thread, whose
    ``finally`` blocks still stop what the command started.
    """
    stop = threading.Event()
    signalled: list[str] = []

    def _stop(signum: int, _frame: Any) -> None:
        # The handler runs in the main thread, which may be inside stop.wait() holding the
        # event's lock: setting the event here would wait for that lock forever. Another thread
        # sets it (and logs) once the main thread lets go. A plain flag answers "second signal?".
        name = signal.Signals(signum).name
        if signalled:  # logging's locks are re-entrant: safe here, unlike the event's
            log.warning("second %s: stopping without waiting for the threads", name)
            raise KeyboardInterrupt
        signalled.append(name)
        threading.Thread(target=_stopping, args=(name,), name="stop-signal", daemon=True).start()

    def _stopping(name: str) -> None:
        log.info("stopping on signal %s", name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


def _run_role(
    role: str,
    settings: Settings,
    loop: Callable[[Shop, threading.Event], None],
    *,
    wake_relays: bool = False,
) -> int:
    """Run a role's loop until stopped, its heartbeat beating; exit 1 if its workers gave up."""
    if settings.redis_url is None:
        print("shop: REDIS_URL must be set for this command", file=sys.stderr)
        return 2
    stop = stop_on_signals()
    shop = bootstrap(settings, wake_relays=wake_relays)
    heartbeat = start_heartbeat(role, stop)
    try:
        loop(shop, stop)
    except WorkerGaveUp as error:
        log.critical("shop %s stopped: %s", role, error)
        return 1
    finally:
        stop.set()
        heartbeat.join()
        shop.close()
    return 0
