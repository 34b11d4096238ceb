"""Both ends of the cross-process wake (route 3 of ``seedwork.sqlalchemy.relay``): PostgreSQL
NOTIFY in the outbox write, LISTEN in the relay.

Units of work built with ``wake_relays`` (``shop api``, ``shop consumer``) add ``wake_relays``
to the statement that writes the outbox rows: it NOTIFYs the outbox's channel
(``seedwork.sqlalchemy.tables.wake_channel``), delivered at commit and not at all on rollback. A
relay in another process (``shop relay``) listens on it with ``CommitListener`` and publishes
at once instead of at its next poll. The poll stays as the fallback: a notification can be
missed while the listening connection is being re-established, which is why every
(re)connection wakes the relay once too.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, Table

from seedwork.sqlalchemy.tables import wake_channel

log = logging.getLogger("seedwork.sqlalchemy.relay")


def wake_relays(outbox: Table) -> str:
    """The SQL that NOTIFYs the relays listening for commits to ``outbox`` (PostgreSQL)."""
    return f"pg_notify('{wake_channel(outbox)}', '')"


class CommitListener:
    """Calls ``wake`` for every notification on ``channel`` until stopped; reconnects on errors."""

    def __init__(
        self,
        engine: Engine,
        channel: str,
        wake: Callable[[], None],
        *,
        check_every: float = 0.5,
        max_backoff: float = 5.0,
    ) -> None:
        self._engine = engine
        self._channel = channel
        self._wake = wake
        self._check_every = check_every
        self._max_backoff = max_backoff

    def run(self, stop: threading.Event) -> None:
        """Listen until ``stop`` is set, reconnecting with backoff when the connection drops."""
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                self._listen(stop)
            except Exception as error:  # noqa: BLE001 - the poll covers us while we reconnect
                if time.monotonic() - started > 10 * self._max_backoff:
                    failures = 0  # it had been listening fine: a new outage starts small
                failures += 1
                wait = random.uniform(0, min(self._max_backoff, 0.1 * 2**failures))
                log.warning(
                    "relay cannot listen for commits, polling meanwhile attempt=%d wait=%.2fs"
                    " error=%s",
                    failures,
                    wait,
                    error,
                )
                stop.wait(wait)

    def _listen(self, stop: threading.Event) -> None:
        connection = self._engine.connect()
        try:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql(f'LISTEN "{self._channel}"')
            driver = connection.connection.driver_connection
            notifies = getattr(driver, "notifies", None)
            if notifies is None:  # a driver other than psycopg 3: the poll alone will do
                log.info("relay listens for commits with psycopg only; polling instead")
                stop.wait()
                return
            log.info("relay listening for commits channel=%s", self._channel)
            self._wake()  # whatever was committed while nobody listened
            while not stop.is_set():
                if list(notifies(timeout=self._check_every, stop_after=1)):
                    self._wake()
        finally:
            # Never hand a listening connection back to the pool: it would queue notifications.
            connection.invalidate()
            connection.close()
