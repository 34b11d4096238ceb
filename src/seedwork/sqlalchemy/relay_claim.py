"""What the relay loop asks of a dialect: claim a batch of unsent rows, have it published, mark it.

``seedwork.sqlalchemy.relay`` picks one implementation per relay, by the engine's dialect:
``relay_postgresql.PostgresqlClaim`` (several relays may run side by side) or
``relay_sqlite.SqliteClaim`` (SQLite serialises writers). Both claim the oldest unsent rows
first and mark as sent (``published_at``) only rows that were published.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Row

Publish = Callable[[Sequence[Row[Any]]], None]
"""Sends the integration events among the claimed rows (``id``, ``type``, ``envelope``), in
order; raises ``PublishFailed`` unless all went out."""


class PublishFailed(Exception):
    """A batch could not be published; its rows stay unsent."""

    def __init__(self, message: str, ids: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.ids = list(ids)  # the rows of the batch, for the failure to be recorded on


class Claim(Protocol):
    """One relay's way of claiming outbox rows, on its dialect."""

    @property
    def held(self) -> bool:
        """Whether the last round stopped before an older unsent row another transaction held."""

    def relay(self, publish: Publish, *, wait: bool) -> int | None:
        """Claim the oldest unsent batch, ``publish`` it, mark it sent; returns how many rows.

        None: nothing was done, as another relay has the turn (without ``wait``) or an older
        row is held. ``PublishFailed`` propagates once the claim is undone.
        """

    def listener(self, wake: Callable[[], None]) -> Callable[[threading.Event], None] | None:
        """Something to run (in a thread, until the event is set) that calls ``wake`` when
        another process commits events; None when the dialect cannot tell."""

    def close(self) -> None:
        """Give back what the claim holds (a connection kept between batches)."""
