"""How every ``shop`` command runs: settings, logging, a first word with Redis, and its failures.

A command's body takes the settings and its parameters and returns the exit status. Around it:
settings that do not load are one line, exit 2; logs go through the one formatter; a failure a
setting or an unreachable server explains is one line (``errors``), any other is logged with its
traceback, redacted, exit 1; Ctrl-C is exit 130.
"""

from __future__ import annotations

import enum
import functools
import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click

from seedwork.core.errors import ConfigurationError
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.cli.errors import check_redis, explain, shown
from shop.entrypoints.cli.params import Given
from shop.entrypoints.embedded_redis import find_embedded_redis
from shop.entrypoints.logging_setup import logging_configured
from shop.redaction import Redactor

log = logging.getLogger("shop")

Body = Callable[..., int]


class Redis(enum.Enum):
    """What a command asks of Redis before it starts."""

    UNUSED = "unused"
    #: Asked once: a Redis that refuses the settings or does not answer is an error.
    ASKED = "asked"
    #: A long-running role: it waits for a Redis that is down, but not for one that says no.
    AWAITED = "awaited"


def runs(*, redis: Redis = Redis.UNUSED) -> Callable[[Body], Body]:
    """Decorate a command's body ``(settings, **params) -> status`` into a click callback."""

    def decorate(body: Body) -> Body:
        @functools.wraps(body)
        def callback(**params: Any) -> int:
            return execute(body, redis=redis, **params)

        return callback

    return decorate


def execute(body: Body, *, redis: Redis = Redis.UNUSED, **params: Any) -> int:
    """Run ``body`` with the settings; returns the exit status (see the module)."""
    environ = environment()
    try:
        settings = Settings.from_env(environ)
    except ConfigurationError as error:
        # Settings that do not load are shown redacted of whatever passwords they hold.
        redact = Redactor.of_urls(
            environ.get("DATABASE_URL"),
            environ.get("REDIS_URL"),
            secrets=[environ.get("SHOP_AUTH_SECRET") or ""],
        )
        failure = explain(error)
        assert failure is not None
        print(shown(failure, redact), file=sys.stderr)
        return failure.status
    with logging_configured(settings) as redact:
        try:
            if redis is not Redis.UNUSED:
                check_redis(settings.redis_url, tolerate_unreachable=redis is Redis.AWAITED)
            return body(settings, **params)
        except KeyboardInterrupt:
            return 130
        except click.ClickException:
            raise
        except Exception as error:  # told in one line, or logged (redacted)
            failure = explain(error)
            if failure is None:
                log.exception("%s stopped by an unexpected error", _command_path())
                return 1
            print(shown(failure, redact), file=sys.stderr)
            return failure.status


def environment() -> Mapping[str, str]:
    """The environment, with the settings given by options of ``shop`` in their variables."""
    context = click.get_current_context(silent=True)
    given = context.find_object(Given) if context is not None else None
    return {**os.environ, **given} if given else os.environ


def operational_shop(settings: Settings) -> Shop:
    """The shop of an operational command: without REDIS_URL, a ``shop run``'s embedded Redis."""
    return bootstrap(find_embedded_redis(settings))


def _command_path() -> str:
    context = click.get_current_context(silent=True)
    return context.command_path if context is not None else "shop"
