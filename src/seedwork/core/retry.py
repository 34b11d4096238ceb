"""Trying again: the bus's patience with conflicts and failing reactions (``RetryPolicy``),
and waiting out transient failures with jittered backoff that a stop event cuts short."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_when_event_set,
    wait_random_exponential,
)

from seedwork.core.errors import ConcurrencyConflict

T = TypeVar("T")

#: Told before each wait of a retry (tenacity's ``before_sleep``).
BeforeSleep = Callable[[RetryCallState], None]


@attrs.frozen
class RetryPolicy:
    """How often and how patiently the bus retries."""

    # Tuned on 8 threads allocating one sku on PostgreSQL: waits long enough to spread
    # the contenders out (fewer, longer waits beat many short collisions).
    conflict_attempts: int = 15
    event_attempts: int = 3
    initial_wait: float = 0.01
    max_wait: float = 0.5
    #: Seconds a reaction keeps retrying conflicts (and at least twice ``conflict_attempts``
    #: times): every conflict is another writer's progress, and a reaction has no caller to
    #: answer 409, so under contention it waits its turn rather than being given up on.
    reaction_patience: float = 30.0

    def after_conflict(self, before_sleep: BeforeSleep | None = None) -> Retrying:
        """Retrying a command that lost an optimistic-lock race (its first try already made):
        conflicts only, ``conflict_attempts`` tries in all, with jittered backoff."""
        return Retrying(
            stop=stop_after_attempt(self.conflict_attempts - 1),
            wait=self._backoff(),
            retry=retry_if_exception_type(ConcurrencyConflict),
            reraise=True,
            before_sleep=before_sleep,
        )

    def after_reaction_failed(self, before_sleep: BeforeSleep | None = None) -> Retrying:
        """Retrying an event handler that failed once: any error up to ``event_attempts``
        tries in all; conflicts until both the attempts and ``reaction_patience`` are spent."""
        attempts = self.event_attempts

        def should_retry(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            if error is None:
                return False
            if isinstance(error, ConcurrencyConflict):
                return True
            return bool(state.attempt_number < attempts - 1)

        return Retrying(
            stop=stop_after_attempt(max(attempts, 2 * self.conflict_attempts) - 1)
            & stop_after_delay(self.reaction_patience),
            wait=self._backoff(),
            retry=should_retry,
            reraise=True,
            before_sleep=before_sleep,
        )

    def _backoff(self) -> Any:
        return wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait)


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
