"""Waiting in tests: poll a condition until it holds, or fail saying what was awaited.

The one poller every suite uses: unit tests waiting on a thread, integration tests waiting on
Redis or the relay, end-to-end tests waiting on a process. Prefer an event to wait on where the
code offers one (``threading.Event``, a log line); poll only what can only be looked at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    timeout: float = 10.0,
    *,
    every: float = 0.01,
    ignoring: tuple[type[Exception], ...] = (),
    explain: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy, and return that.

    Fails with an ``AssertionError`` once ``timeout`` seconds have passed (``check`` is called
    once more at the deadline). An exception ``check`` raises ends the wait at once (an
    assertion that a process is still alive, say), unless it is one of ``ignoring``: then it
    counts as "not yet" (a server that does not accept connections yet). ``explain`` adds
    what to show on failure (a process's log).
    """
    deadline = time.monotonic() + timeout
    while True:
        value: T | None
        try:
            value = check()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f"\n{explain()}" if explain is not None else ""
            raise AssertionError(f"condition not met within {timeout} s{detail}")
        time.sleep(every)
