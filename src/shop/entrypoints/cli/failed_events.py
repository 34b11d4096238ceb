"""``shop failed-events list`` and ``replay ID``: in-process event handlers that kept failing.

The bus records such a failure (after its retries) instead of breaking the command that raised
the event. Once the cause is fixed, a replay dispatches the event again: handlers that already
handled it skip it (inbox), the failed one runs, and the failure is marked replayed only when
that handler's inbox row shows it was applied.
"""

from __future__ import annotations

import argparse
import sys

from seedwork.core.errors import MessageError
from shop.adapters import orm
from shop.adapters.failed_events import SqlFailedEvents
from shop.bootstrap import Shop


def failed_events_command(args: argparse.Namespace, shop: Shop) -> int:
    """``shop failed-events list`` and ``shop failed-events replay ID``."""
    tables = orm.seedwork_tables
    store = SqlFailedEvents(shop.engine, tables.failed_events, shop.serializer, tables.inbox)
    try:
        if args.failed_command == "list":
            return _list(store, args.limit)
        return _replay(shop, store, args.id)
    finally:
        shop.close()


def _list(store: SqlFailedEvents, limit: int) -> int:
    failures = store.unreplayed(limit)
    if not failures:
        print("no failed events")
        return 0
    print(f"{'ID':<8} {'FAILED AT':<33} {'EVENT':<22} {'MESSAGE ID':<37} HANDLER / ERROR")
    for failure in failures:
        print(
            f"{failure.id:<8} {failure.failed_at.isoformat():<33} {failure.type:<22} "
            f"{failure.message_id:<37} {failure.handler}"
        )
        print(f"{'':<8} {failure.error}")
    print(f"{len(failures)} of {store.count_unreplayed()} failed events")
    return 0


def _replay(shop: Shop, store: SqlFailedEvents, failure_id: int) -> int:
    failure = store.get(failure_id)
    if failure is None:
        return _refuse(f"no failed event with id {failure_id}")
    if failure.replayed_at is not None:
        print(f"failed event {failure_id} was replayed at {failure.replayed_at.isoformat()}")
        return 0
    try:
        envelope = shop.serializer.loads(failure.envelope)
    except MessageError as error:
        return _refuse(f"failed event {failure_id} cannot be read: {error}")
    if failure.handler not in shop.bus.event_handler_names(type(envelope.message)):
        return _refuse(f"no handler named {failure.handler} handles {failure.type} any more")
    shop.bus.dispatch_events([envelope])
    if not store.applied(failure):
        latest = store.latest_error(failure.message_id, failure.handler)
        return _refuse(f"replay of {failure_id} failed again: {latest}")
    store.mark_replayed(failure.message_id, failure.handler)
    print(f"replayed {failure_id}: {failure.handler} handled {failure.type} {failure.message_id}")
    return 0


def _refuse(reason: str) -> int:
    print(f"shop: {reason}", file=sys.stderr)
    return 1
