"""One-shot operations: ``shop db upgrade``, ``shop outbox status``, ``shop views rebuild``,
``shop openapi`` and ``shop asyncapi``."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from shop.adapters.database import create_database_engine
from shop.config import Settings
from shop.entrypoints.cli.params import CONTEXT, Group
from shop.entrypoints.cli.runner import operational_shop, runs
from shop.entrypoints.cli.views_rebuild import views_rebuild_command
from shop.entrypoints.documents.asyncapi import asyncapi_document
from shop.entrypoints.documents.openapi import openapi_document
from shop.entrypoints.workers import outbox_status_command
from shop.migrations import upgrade
from shop.redaction import redact_url


@click.group("db", cls=Group)
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@runs()
def db_upgrade(settings: Settings) -> int:
    """Apply every migration (alembic)."""
    engine = create_database_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"database upgraded: {redact_url(engine.url.render_as_string(hide_password=False))}")
    return 0


@click.group("outbox", cls=Group)
def outbox() -> None:
    """The outbox of events."""


@outbox.command("status")
@runs()
def outbox_status(settings: Settings) -> int:
    """Pending, failed and the oldest pending age of the outbox."""
    return outbox_status_command(operational_shop(settings))


@click.group("views", cls=Group)
def views() -> None:
    """Read models."""


@views.command("rebuild")
@runs()
def views_rebuild(settings: Settings) -> int:
    """Rebuild the read models from the event log, with a progress bar, without blocking
    readers (the old views serve until the new ones are swapped in)."""
    return views_rebuild_command(operational_shop(settings))


@click.command("openapi", context_settings=CONTEXT)
@runs()
def openapi(settings: Settings) -> int:
    """Print the OpenAPI 3.1 document that ``GET /openapi.json`` serves."""
    return _print_json(openapi_document())


@click.command("asyncapi", context_settings=CONTEXT)
@runs()
def asyncapi(settings: Settings) -> int:
    """Print the AsyncAPI 3.0 document of the Redis channels, for the configured prefix."""
    return _print_json(asyncapi_document(settings.channel_prefix))


def _print_json(document: dict[str, Any]) -> int:
    try:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (``| head``) left: nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
