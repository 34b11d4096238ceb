"""Reactions: the handlers of one event, each retried and, failing still, dead-lettered alone.

An event handler's failure never reaches the command that raised the event, nor the other
handlers of the event: it is retried (see ``RetryPolicy.after_reaction_failed``) and then
kept by the ``DeadLetterSink`` for inspection and replay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from seedwork.core import context
from seedwork.core.injection import BoundHandler
from seedwork.core.messages import Envelope
from seedwork.core.retry import RetryPolicy

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics

log = logging.getLogger("seedwork.core.bus")

Q = TypeVar("Q")


class DeadLetterSink(Protocol):
    """Where an event that a handler keeps failing on is recorded."""

    def record(self, envelope: Envelope, handler: str, error: BaseException) -> None:
        """Keep the failed event and why, for inspection and replay."""


class Reactions:
    """Runs an event's handlers one after the other; none of their failures propagates."""

    def __init__(
        self, retry: RetryPolicy, dead_letters: DeadLetterSink, metrics: Metrics | None
    ) -> None:
        self._retry = retry
        self._dead_letters = dead_letters
        self._metrics = metrics

    def run(
        self,
        envelope: Envelope,
        handlers: tuple[BoundHandler, ...],
        invoke: Callable[[BoundHandler, Envelope, Q], object],
        queue: Q,
    ) -> None:
        """``invoke(handler, envelope, queue)`` for each handler, retried, then dead-lettered."""
        given_up = False
        for bound in handlers:
            try:
                invoke(bound, envelope, queue)
                continue
            except Exception as first_error:  # noqa: BLE001 - event handlers never break the caller
                # The slow path binds the message's ids around its own log lines (the handler
                # run binds them itself): nothing is bound per message on the fast path.
                with context.bound(
                    correlation_id=envelope.correlation_id, message_id=envelope.message_id
                ):
                    if not self._retry_failed(envelope, bound, invoke, queue, first_error):
                        given_up = True
        # Counted once per event, when every handler applied it (a count per handler would
        # cost each message a counter update per reaction).
        if handlers and not given_up and self._metrics is not None:
            self._metrics.handled("event", envelope.name)

    def _retry_failed(
        self,
        envelope: Envelope,
        bound: BoundHandler,
        invoke: Callable[[BoundHandler, Envelope, Q], object],
        queue: Q,
        first_error: Exception,
    ) -> bool:
        """Retry a handler that failed; dead-letter the event when it keeps failing (False)."""
        if self._metrics is not None:
            self._metrics.retried("event", envelope.name)
        log.warning(
            "event handler failed, retrying",
            extra={"handler": bound.name, "event_type": envelope.name, "error": repr(first_error)},
        )
        retrying = self._retry.after_reaction_failed(self._retried(envelope))
        try:
            retrying(invoke, bound, envelope, queue)
        except Exception as error:  # noqa: BLE001
            self._give_up(envelope, bound, error)
            return False
        return True

    def _give_up(self, envelope: Envelope, bound: BoundHandler, error: Exception) -> None:
        log.error(
            "event handler dead-lettered",
            extra={"handler": bound.name, "event_type": envelope.name, "error": repr(error)},
        )
        if self._metrics is not None:
            self._metrics.failed("event", envelope.name)
        try:
            self._dead_letters.record(envelope, bound.name, error)
        except Exception:
            # Kept nowhere (its store is down too): the event has no inbox row for this
            # handler, so the recovery sweep dispatches it again later.
            log.exception(
                "event handler failure could not be recorded",
                extra={"handler": bound.name, "event_type": envelope.name},
            )

    def _retried(self, envelope: Envelope) -> Callable[[Any], None] | None:
        metrics = self._metrics
        if metrics is None:
            return None
        return lambda _state: metrics.retried("event", envelope.name)
