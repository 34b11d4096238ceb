"""What each ``shop`` sub-command does."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from seedwork.core.supervision import WorkerGaveUp
from shop.adapters.database import create_database_engine
from shop.adapters.tokens import token_keys
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.cli.all_in_one import run_all as serve_all
from shop.entrypoints.cli.dead_letters import dead_letter_command
from shop.entrypoints.cli.failed_events import failed_events_command
from shop.entrypoints.cli.tokens import tokens_command
from shop.entrypoints.cli.views_rebuild import views_rebuild_command
from shop.entrypoints.documents.asyncapi import asyncapi_document
from shop.entrypoints.documents.openapi import openapi_document
from shop.entrypoints.embedded_redis import find_embedded_redis
from shop.entrypoints.heartbeat import health_command, start_heartbeat
from shop.entrypoints.workers import outbox_status_command, run_consumer_loop, run_relay_loop
from shop.migrations import upgrade
from shop.redaction import redact_url

log = logging.getLogger("shop")


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the sub-command named by the parsed arguments."""
    handler: Callable[[argparse.Namespace, Settings], int] = {
        "run": run_all,
        "api": run_api,
        "consumer": run_consumer,
        "relay": run_relay,
        "db": db_upgrade,
        "dead-letters": dead_letters,
        "failed-events": failed_events,
        "outbox": outbox_status,
        "views": views_rebuild,
        "health": health,
        "tokens": tokens,
        "openapi": print_openapi,
        "asyncapi": print_asyncapi,
    }[args.command]
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the migrations."""

    engine = create_database_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"database upgraded: {redact_url(engine.url.render_as_string(hide_password=False))}")
    return 0


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so loops finish their current message and stop.

    A second signal does not wait for them: it raises KeyboardInterrupt in the main thread, whose
    ``finally`` blocks still stop what the command started.
    """
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("second %s: stopping without waiting for the threads", name)
            raise KeyboardInterrupt
        log.info("stopping on signal %s", name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


def run_all(args: argparse.Namespace, settings: Settings) -> int:
    """Migrations, API, consumer and relay in one process."""

    return serve_all(args, settings, stop_on_signals())


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    """The API under gunicorn."""

    # The one import left in a function: gunicorn is loaded by the command that runs it only,
    # never by a consumer or a relay (``shop --help`` imports none of this module at all).
    from shop.entrypoints.http.gunicorn_app import serve

    token_keys(settings.auth)  # no key to check tokens with: exit 2 now, not in every worker
    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def _require_redis(settings: Settings) -> bool:
    if settings.redis_url is None:
        print("shop: REDIS_URL must be set for this command", file=sys.stderr)
        return False
    return True


def run_consumer(args: argparse.Namespace, settings: Settings) -> int:
    """Consume commands from Redis until stopped."""

    if not _require_redis(settings):
        return 2
    stop = stop_on_signals()
    shop = bootstrap(settings, wake_relays=True)  # its events go out through `shop relay`
    heartbeat = start_heartbeat("consumer", stop)
    try:
        run_consumer_loop(shop, stop, workers=args.workers)
    except WorkerGaveUp as error:
        log.critical("shop consumer stopped: %s", error)
        return 1
    finally:
        stop.set()
        heartbeat.join()
        shop.close()
    return 0


def run_relay(args: argparse.Namespace, settings: Settings) -> int:
    """Relay the outbox to Redis until stopped."""

    if not _require_redis(settings):
        return 2
    stop = stop_on_signals()
    shop = bootstrap(settings)
    heartbeat = start_heartbeat("relay", stop)
    try:
        run_relay_loop(shop, stop)
    finally:
        stop.set()
        heartbeat.join()
        shop.close()
    return 0


def dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """List or replay dead letters."""

    return dead_letter_command(args, _shop(settings))


def failed_events(args: argparse.Namespace, settings: Settings) -> int:
    """List or replay events an in-process handler kept failing on."""

    return failed_events_command(args, _shop(settings))


def outbox_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print pending, failed and the oldest pending age of the outbox."""

    return outbox_status_command(_shop(settings))


def views_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the read models from the event log."""

    return views_rebuild_command(_shop(settings))


def health(args: argparse.Namespace, settings: Settings) -> int:
    """Whether a role runs in this directory: its heartbeat is fresh (exit 0) or not (1)."""
    return health_command(args.role)


def tokens(args: argparse.Namespace, settings: Settings) -> int:
    """Issue an access token."""

    return tokens_command(args, settings)


def print_openapi(args: argparse.Namespace, settings: Settings) -> int:
    """Print the OpenAPI document that ``GET /openapi.json`` serves."""

    return _print_json(openapi_document())


def print_asyncapi(args: argparse.Namespace, settings: Settings) -> int:
    """Print the AsyncAPI document that ``GET /asyncapi.json`` serves, for the configured prefix."""

    return _print_json(asyncapi_document(settings.channel_prefix))


def _print_json(document: dict[str, Any]) -> int:
    try:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (``| head``) left: nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _shop(settings: Settings) -> Shop:
    """The shop of an operational command: without REDIS_URL, a ``shop run``'s embedded Redis."""
    return bootstrap(find_embedded_redis(settings))
