"""The long-running roles: ``shop run``, ``shop api``, ``shop consumer``, ``shop relay``, and
``shop health``, which tells whether one of them still beats in this directory."""

from __future__ import annotations

import logging
import os
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
    # Python runs a signal's handler in the main thread between two bytecodes, and a main thread
    # blocked in stop.wait() runs none: a signal whose low-level half ran in another thread, or
    # just before the main thread blocked, was never acted on. That half also writes the signal's
    # number to the wakeup fd, in whatever thread it ran: a thread of its own reads it and sets
    # the event (never the handler: inside stop.wait() the main thread may hold the event's lock).
    readable, writable = os.pipe()
    os.set_blocking(writable, False)
    signal.set_wakeup_fd(writable, warn_on_full_buffer=False)
    threading.Thread(
        target=_stop_on_wakeup, args=(readable, stop), name="stop-signal", daemon=True
    ).start()
    handled: list[int] = []

    def _interrupt_at_second(signum: int, _frame: Any) -> None:
        handled.append(signum)  # only ever run in the main thread: no lock needed
        if len(handled) > 1:  # logging's locks are re-entrant: safe here, unlike the event's
            log.warning("second %s: stopping without waiting for the threads", _name(signum))
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt_at_second)
    signal.signal(signal.SIGINT, _interrupt_at_second)
    return stop


def _stop_on_wakeup(readable: int, stop: threading.Event) -> None:
    """Set ``stop`` at the first SIGTERM or SIGINT written to the signal wakeup fd."""
    while True:
        for signum in os.read(readable, 64):
            if signum in (signal.SIGTERM, signal.SIGINT):
                log.info("stopping on signal %s", _name(signum))
                stop.set()
                return  # later signals are the handler's; the fd stays open, its writes dropped


def _name(signum: int) -> str:
    return signal.Signals(signum).name


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
