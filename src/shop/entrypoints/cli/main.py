"""The ``shop`` command line (CONTRACT §1)."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import NoReturn

from seedwork.core.errors import ConfigurationError
from shop.config import Settings
from shop.entrypoints.cli import tokens as tokens_cli
from shop.entrypoints.heartbeat import ROLES
from shop.entrypoints.logging_setup import logging_configured
from shop.redaction import Redactor

log = logging.getLogger("shop")

#: Commands that talk to Redis, and whether they wait for one that is down.
_REDIS_COMMANDS = {"run": True, "api": True, "consumer": True, "relay": True, "dead-letters": False}
_LARGEST_ENTRY_PART = 2**64 - 1


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (CONTRACT §1), exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Say what is wrong in one line, and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


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
    parts = re.fullmatch(r"(\d{1,20})-(\d{1,20})", value)
    if parts is None or any(int(part) > _LARGEST_ENTRY_PART for part in parts.groups()):
        raise argparse.ArgumentTypeError(
            f"not a dead-letter id: {value!r} (ids look like 1732355000000-0; see "
            "'shop dead-letters list')"
        )
    return value


def _error_kind(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", value):
        raise argparse.ArgumentTypeError(
            f"not an error kind: {value!r} (the word before the first colon of a dead letter's"
            " error, e.g. InvalidField; see 'shop dead-letters list')"
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

    try:
        return version("shop")
    except PackageNotFoundError:  # run from the sources without being installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(prog="shop", description="shop: e-commerce order management")
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
    replay = dead_commands.add_parser(
        "replay", help="re-drive one dead letter, or every one (of a kind)"
    )
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=_entry_id, help="the dead letter's id, as listed")
    which.add_argument("--all", action="store_true", help="every dead letter, oldest first")
    replay.add_argument(
        "--error",
        metavar="KIND",
        type=_error_kind,
        help="with --all: only those whose error is of this kind (e.g. InvalidField)",
    )
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
    commands.add_parser("openapi", help="print the OpenAPI 3.1 document of the HTTP API")
    commands.add_parser("asyncapi", help="print the AsyncAPI 3.0 document of the Redis channels")
    health = commands.add_parser(
        "health", help="exit 0 if a role beats in this directory (a container's health check)"
    )
    health.add_argument("--role", required=True, choices=ROLES)
    tokens_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the shop command line; returns the exit status."""

    # Deliberately lazy, once: what the commands need (SQLAlchemy, Redis, Flask, the bootstrap)
    # is imported after the arguments parse, so ``shop --help`` and a usage error stay fast.
    from shop.entrypoints.cli import commands
    from shop.entrypoints.cli import errors as cli_errors

    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        # Settings that do not load are shown redacted of whatever passwords they hold.
        redact = Redactor.of_urls(
            os.environ.get("DATABASE_URL"),
            os.environ.get("REDIS_URL"),
            secrets=[os.environ.get("SHOP_AUTH_SECRET") or ""],
        )
        failure = cli_errors.explain(error)
        assert failure is not None
        print(cli_errors.shown(failure, redact), file=sys.stderr)
        return failure.status

    with logging_configured(settings) as redact:
        try:
            if args.command in _REDIS_COMMANDS:
                cli_errors.check_redis(
                    settings.redis_url, tolerate_unreachable=_REDIS_COMMANDS[args.command]
                )
            return commands.dispatch(args, settings)
        except Exception as error:  # told in one line, or logged (redacted)
            failure = cli_errors.explain(error)
            if failure is None:
                log.exception("shop %s stopped by an unexpected error", args.command)
                return 1
            print(cli_errors.shown(failure, redact), file=sys.stderr)
            return failure.status
