"""The ``shop`` command line (CONTRACT §1)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Sequence

from shop.config import Settings
from shop.entrypoints import tokens_cli
from shop.entrypoints.heartbeat import ROLES
from shop.errors import ConfigurationInvalid


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535 (0: any free port), got {port}")
    return port


def _limit(value: str) -> int:
    try:
        limit = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if limit < 1:
        raise argparse.ArgumentTypeError(f"the limit must be 1 or more, got {limit}")
    return limit


def _entry_id(value: str) -> str:
    if not re.fullmatch(r"\d{1,20}-\d{1,20}", value):
        raise argparse.ArgumentTypeError(
            f"not a dead-letter id: {value!r} (ids look like 1732355000000-0; see "
            "'shop dead-letters list')"
        )
    return value


def _failure_id(value: str) -> int:
    if not re.fullmatch(r"[1-9]\d{0,17}", value):
        raise argparse.ArgumentTypeError(
            f"not a failed-event id: {value!r} (a positive number; see 'shop failed-events list')"
        )
    return int(value)


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError(f"workers must be 1-64, got {workers}")
    return workers


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shop")
    except PackageNotFoundError:  # run from the sources without being installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="shop", description="shop: e-commerce order management")
    parser.add_argument("--version", action="version", version=f"shop {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="all-in-one: migrations, API, consumer and relay")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=_port, default=8000)
    api = commands.add_parser("api", help="serve the HTTP API under gunicorn")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=_port, default=8000)
    api.add_argument("--workers", type=_workers, default=2)
    consumer = commands.add_parser("consumer", help="consume commands from Redis")
    consumer.add_argument(
        "--workers",
        type=_workers,
        default=4,
        help="commands applied side by side, one batch or order per worker (default 4)",
    )
    commands.add_parser("relay", help="relay the outbox to Redis")
    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply every migration")
    dead = commands.add_parser("dead-letters", help="messages that could not be processed")
    dead_commands = dead.add_subparsers(dest="dead_command", required=True, metavar="ACTION")
    dead_list = dead_commands.add_parser("list", help="list dead letters")
    dead_list.add_argument("--limit", type=_limit, default=50)
    replay = dead_commands.add_parser("replay", help="re-drive one dead letter")
    replay.add_argument("id", type=_entry_id, help="the dead letter's id, as listed")
    failed = commands.add_parser(
        "failed-events", help="events an in-process handler kept failing on"
    )
    failed_commands = failed.add_subparsers(dest="failed_command", required=True, metavar="ACTION")
    failed_list = failed_commands.add_parser("list", help="list failures not replayed yet")
    failed_list.add_argument("--limit", type=_limit, default=50)
    failed_replay = failed_commands.add_parser("replay", help="dispatch one failed event again")
    failed_replay.add_argument("id", type=_failure_id, help="the failure's id, as listed")
    outbox = commands.add_parser("outbox", help="the outbox of events")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    outbox_commands.add_parser("status", help="pending, failed and oldest pending age")
    views = commands.add_parser("views", help="read models")
    views_commands = views.add_subparsers(dest="views_command", required=True, metavar="ACTION")
    views_commands.add_parser("rebuild", help="rebuild the read models from the event log")
    health = commands.add_parser(
        "health", help="exit 0 if a role beats in this directory (a container's health check)"
    )
    health.add_argument("--role", required=True, choices=ROLES)
    tokens_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the shop command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationInvalid as error:
        print(f"shop: configuration error: {error}", file=sys.stderr)
        return 2
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.basicConfig(
        level=settings.log_level_number,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

    from shop.entrypoints import commands

    try:
        return commands.dispatch(args, settings)
    except ConfigurationInvalid as error:
        print(f"shop: configuration error: {error}", file=sys.stderr)
        return 2
    except (OperationalError, InterfaceError, ProgrammingError) as error:
        if _missing_table(error):
            print(
                f"shop: the database has no shop tables yet; run `shop db upgrade` first"
                f" ({error.orig or error})",
                file=sys.stderr,
            )
        elif isinstance(error, ProgrammingError):
            raise
        else:
            print(f"shop: the database is unreachable: {error.orig or error}", file=sys.stderr)
    except (RedisConnectionError, RedisTimeoutError) as error:
        print(f"shop: Redis is unreachable: {error}", file=sys.stderr)
    return 1


def _missing_table(error: Exception) -> bool:
    """Whether a database error says a table does not exist (an unmigrated database)."""
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined_table
        return True
    return "no such table" in str(orig or error)  # SQLite


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
