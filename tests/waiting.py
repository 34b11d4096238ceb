"""One way for a test to wait on another thread or process: poll what it can observe."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 10.0, *, every: float = 0.01) -> T:
    """Call ``check`` every ``every`` seconds until it returns something truthy, and return that;
    fail the test once ``timeout`` seconds passed (``check`` runs once more at the end)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"condition never became true within {timeout} s"
            return value
        time.sleep(every)
