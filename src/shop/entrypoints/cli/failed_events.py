"""``shop failed-events list`` and ``replay ID``: in-process event handlers that kept failing.

The bus records such a failure (after its retries) instead of breaking the command that raised
the event. Once the cause is fixed, a replay dispatches the event again: handlers that already
handled it skip it (inbox), the failed one runs, and the failure is marked replayed only when
that handler's inbox row shows it was applied.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from seedwork.core.errors import MessageError
from shop.adapters import tables as db
from shop.adapters.failed_events import FailedEvent, SqlFailedEvents
from shop.bootstrap import Shop
from shop.config import Settings
from shop.entrypoints.cli.kept import Listing, Refused, replay_one
from shop.entrypoints.cli.params import Group, Number, Shaped
from shop.entrypoints.cli.runner import operational_shop, runs

LIMIT = Number("the limit", 1)
FAILURE_ID = Shaped(
    "ID",
    r"[1-9]\d{0,17}",
    "not a failed-event id: {value} (a positive number; see 'shop failed-events list')",
    convert=int,
)


@click.group("failed-events", cls=Group)
def failed_events() -> None:
    """Events an in-process handler kept failing on: list them, replay one once fixed."""


@failed_events.command("list")
@click.option("--limit", type=LIMIT, default=50, help="at most this many, oldest first")
@runs()
def list_command(settings: Settings, limit: int) -> int:
    """List the failures not replayed yet, oldest first."""
    return failed_events_command(
        operational_shop(settings), lambda shop, store: list_failures(store, limit)
    )


@failed_events.command("replay")
@click.argument("failure_id", metavar="ID", type=FAILURE_ID)
@runs()
def replay_command(settings: Settings, failure_id: int) -> int:
    """Dispatch one failed event again (ID, as listed)."""
    return failed_events_command(
        operational_shop(settings), lambda shop, store: replay_failure(shop, store, failure_id)
    )


def failed_events_command(shop: Shop, action: Callable[[Shop, SqlFailedEvents], int]) -> int:
    """Run ``action`` with the store of failed events of ``shop``, then close it."""
    tables = db.seedwork_tables
    store = SqlFailedEvents(shop.engine, tables.failed_events, shop.serializer, tables.inbox)
    try:
        return action(shop, store)
    finally:
        shop.close()


LISTING = Listing[FailedEvent](
    "failed events",
    [("ID", 8), ("FAILED AT", 33), ("EVENT", 22), ("MESSAGE ID", 37), ("HANDLER / ERROR", 0)],
    lambda failure: (
        failure.id,
        failure.failed_at.isoformat(),
        failure.type,
        failure.message_id,
        failure.handler,
    ),
    lambda failure: failure.error,
)


def list_failures(store: SqlFailedEvents, limit: int) -> int:
    """Print the failures not replayed yet, oldest first."""
    return LISTING.show(store.unreplayed(limit), store.count_unreplayed)


def replay_failure(shop: Shop, store: SqlFailedEvents, failure_id: int) -> int:
    """Dispatch a failed event again; it is marked replayed once its handler applied it."""
    failure = store.get(failure_id)
    if failure is not None and failure.replayed_at is not None:
        print(f"failed event {failure_id} was replayed at {failure.replayed_at.isoformat()}")
        return 0
    return replay_one(
        "failed event",
        failure_id,
        failure,
        lambda failure: _dispatch_again(shop, store, failure),
        lambda failure: f"{failure.handler} handled {failure.type} {failure.message_id}",
        failed="failed again",
    )


def _dispatch_again(shop: Shop, store: SqlFailedEvents, failure: FailedEvent) -> str:
    try:
        envelope = shop.serializer.loads(failure.envelope)
    except MessageError as error:
        raise Refused(f"failed event {failure.id} cannot be read: {error}") from None
    if failure.handler not in shop.bus.event_handler_names(type(envelope.message)):
        raise Refused(f"no handler named {failure.handler} handles {failure.type} any more")
    shop.bus.dispatch_events([envelope])
    if not store.applied(failure):
        return store.latest_error(failure.message_id, failure.handler) or "(no error recorded)"
    store.mark_replayed(failure.message_id, failure.handler)
    return ""
