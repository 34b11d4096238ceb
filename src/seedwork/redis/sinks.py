"""What the command listeners hand messages to: a consumer, or the lanes in front of one.

``Sink`` is the one signature of ``submit``: ``CommandConsumer`` and ``Lanes`` take the
listener's ``Handover`` as keyword arguments, so the three never drift apart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypedDict, Unpack


class Handover(TypedDict, total=False):
    """What a listener says of a message besides its bytes and channel (all optional)."""

    #: The stream entry's id; absent for a pub/sub message (which cannot be had again).
    stream_entry: str
    #: Called once with True after it committed or was dead-lettered (acknowledge it), or
    #: with False when it could be neither (it stays pending).
    done: Callable[[bool], None]
    #: The listener's stop event: an outage is waited out only until it is set.
    stop: threading.Event


class Sink(Protocol):
    """Takes a message to apply; calls ``done(True)`` once it committed or was dead-lettered.

    ``done(False)``: it could be neither (Redis or the database gone); it stays pending.
    """

    def submit(self, raw: str | bytes, channel: str | bytes, **handover: Unpack[Handover]) -> None:
        """Apply (now or soon) one message."""

    def reject(self, raw: str | bytes, error: str, channel: str | bytes) -> None:
        """Dead-letter a message with the reason."""

    def suspect(self, raw: str | bytes, channel: str | bytes, stream_entry: str) -> bool:
        """Whether an entry delivered too often may be to blame (not while the database is
        unreachable, not once it was applied)."""
