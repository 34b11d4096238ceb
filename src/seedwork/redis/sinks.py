"""What the command listeners hand messages to: a consumer, or the lanes in front of one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol


class Sink(Protocol):
    """Takes a message to apply; calls ``done(True)`` once it committed or was dead-lettered.

    ``done(False)``: it could be neither (Redis or the database gone); it stays pending.
    """

    def submit(
        self,
        raw: str | bytes,
        channel: str | bytes,
        *,
        stream_entry: str | None = None,
        done: Callable[[bool], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Apply (now or soon) one message."""

    def reject(self, raw: str | bytes, error: str, channel: str | bytes) -> None:
        """Dead-letter a message with the reason."""

    def suspect(self, raw: str | bytes, channel: str | bytes, stream_entry: str) -> bool:
        """Whether an entry delivered too often may be to blame (not while the database is
        unreachable, not once it was applied)."""
