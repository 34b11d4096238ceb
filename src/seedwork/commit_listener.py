"""Wakes a relay when another process commits events: PostgreSQL LISTEN on the outbox's channel.

Every unit of work that writes outbox rows on PostgreSQL also NOTIFYs the outbox's channel
(``seedwork.tables.wake_channel``), delivered at commit. A relay in another process (``shop
relay`` beside ``shop api`` and ``shop consumer``) listens on it and publishes at once instead of
at its next poll. The poll stays as the fallback: a notification can be missed while the
listening connection is being re-established, which is why every (re)connection wakes the
relay once too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine
from tenacity import Retrying, retry_if_exception_type, stop_when_event_set
from tenacity import wait_random_exponential as backoff

from seedwork.redis_streams import sleeper

log = logging.getLogger("seedwork.relay")


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

        def note(state: object) -> None:
            outcome = getattr(state, "outcome", None)
            error = outcome.exception() if outcome is not None else None
            log.warning("relay cannot listen for commits, polling meanwhile error=%s", error)

        retrying = Retrying(
            retry=retry_if_exception_type(Exception),
            wait=backoff(multiplier=0.1, max=self._max_backoff),
            stop=stop_when_event_set(stop),
            sleep=sleeper(stop),
            before_sleep=note,
            reraise=True,
        )
        try:
            retrying(self._listen, stop)
        except Exception:  # noqa: BLE001 - only escapes once stopped while backing off
            return

    def _listen(self, stop: threading.Event) -> None:
        with self._engine.connect() as connection:
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
