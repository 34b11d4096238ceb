"""Waiting out transient failures: jittered exponential backoff that a stop event cuts short."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_when_event_set,
    wait_random_exponential,
)

T = TypeVar("T")

#: Told of each retry: (attempt number, seconds to wait, the transient error).
OnRetry = Callable[[int, float, BaseException], None]


def sleeper(stop: threading.Event) -> Callable[[float], None]:
    """A tenacity ``sleep`` that returns early when ``stop`` is set."""

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    return sleep


def retry_transient(
    call: Callable[..., T],
    *args: Any,
    transient: Callable[[BaseException], bool],
    stop: threading.Event | None = None,
    max_backoff: float = 2.0,
    on_retry: OnRetry | None = None,
) -> T:
    """``call(*args)``, again with jittered exponential backoff for as long as it fails
    transiently; the last error is raised once ``stop`` is set, any other error at once."""
    stop = stop or threading.Event()

    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if on_retry is not None and error is not None:
            on_retry(state.attempt_number, wait, error)

    retrying = Retrying(
        retry=retry_if_exception(transient),
        stop=stop_when_event_set(stop),
        wait=wait_random_exponential(multiplier=0.02, max=max_backoff),
        sleep=sleeper(stop),
        before_sleep=note,
        reraise=True,
    )
    return retrying(call, *args)
