"""The message bus: one handler per command, any number per event, events after commit.

The queue of a ``handle`` call lives in that call, so one bus can be shared by threads
and re-entered from a handler. Event handler failures are retried with backoff and then
dead-lettered (``seedwork.core.reactions``); they never fail the command that raised the
event. Optimistic-lock conflicts retry the whole handler with jittered backoff
(``RetryPolicy`` in ``seedwork.core.retry``).

About 260 lines, over the house's ~250: dispatch, the commit hooks and the call's queue are one
loop, and splitting them would spread one hot path over modules.
"""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import attrs

from seedwork.core import context
from seedwork.core.errors import AlreadyHandled, ConcurrencyConflict, ConfigurationError
from seedwork.core.injection import BoundHandler, Dependencies, Handler, bind
from seedwork.core.messages import Command, Envelope, Event, Message, Principal
from seedwork.core.reactions import DeadLetterSink, Reactions
from seedwork.core.retry import RetryPolicy
from seedwork.core.uow import Handling

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics
    from seedwork.observability.tracing import Tracing

log = logging.getLogger("seedwork.core.bus")


class MessageBus:
    """Dispatches commands and events to their handlers with injected dependencies."""

    def __init__(
        self,
        *,
        command_handlers: Mapping[type[Command], Handler],
        event_handlers: Mapping[type[Event], Sequence[Handler]],
        dependencies: Dependencies,
        dead_letters: DeadLetterSink,
        retry: RetryPolicy | None = None,
        on_commit: Callable[[list[Envelope]], None] | None = None,
        on_settled: Callable[[list[Envelope]], None] | None = None,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._commands: dict[type[Message], BoundHandler] = {}
        for command_type, handler in command_handlers.items():
            if not issubclass(command_type, Command):
                raise ConfigurationError(f"{command_type.__name__} is not a command")
            self._commands[command_type] = bind(handler, dependencies)
        self._events: dict[type[Message], tuple[BoundHandler, ...]] = {}
        for event_type, handlers in event_handlers.items():
            if not issubclass(event_type, Event):
                raise ConfigurationError(f"{event_type.__name__} is not an event")
            self._events[event_type] = tuple(bind(h, dependencies) for h in handlers)
        self._retry = retry = retry or RetryPolicy()
        self._reactions = Reactions(retry, dead_letters, metrics)
        # Told of the events of every commit as soon as it happened (wakes an outbox relay).
        self._on_commit = on_commit
        # Told once per ``handle`` call, when its reactions have run, of every event it
        # committed (publishes them in one go, after the last reaction's commit).
        self._on_settled = on_settled
        self._acting_as: Principal | None = None
        # Observability hooks, None when off (then they cost nothing).
        self._metrics = metrics
        self._tracing = tracing

    def acting_as(self, principal: Principal) -> MessageBus:
        """This bus, handling every message given to it as sent by ``principal``.

        For a door whose messages cannot say who sent them (a message queue): whatever a
        message claims, it acts as ``principal`` and its events name ``principal`` as actor.
        """
        acting = copy.copy(self)
        acting._acting_as = principal
        return acting

    @classmethod
    def from_pairs(
        cls,
        *,
        commands: Iterable[tuple[type[Command], Handler]],
        events: Mapping[type[Event], Sequence[Handler]],
        **kwargs: Any,
    ) -> MessageBus:
        """Build from (command, handler) pairs; a second handler for one command is an error."""
        command_handlers: dict[type[Command], Handler] = {}
        for command_type, handler in commands:
            if command_type in command_handlers:
                raise ConfigurationError(f"command {command_type.__name__} has two handlers")
            command_handlers[command_type] = handler
        return cls(command_handlers=command_handlers, event_handlers=events, **kwargs)

    def event_handler_names(self, event_type: type[Message]) -> tuple[str, ...]:
        """The names of the handlers an event type goes to (their inbox keys)."""
        return tuple(bound.name for bound in self._events.get(event_type, ()))

    def command_handler_name(self, command_type: type[Message]) -> str | None:
        """The name of a command type's handler (its inbox key), or None without one."""
        bound = self._commands.get(command_type)
        return bound.name if bound is not None else None

    def handle(
        self, message: Message | Envelope, *, committed: list[Envelope] | None = None
    ) -> Any:
        """Handle a message and everything that follows from it; return the command's result.

        Errors of the command's handler propagate; event handler errors do not. A bare
        message joins the correlation bound in the context (an HTTP request's), if any. When
        ``committed`` is given, the events of every commit of this call are appended to it, in
        commit order (an answer can be built from them instead of read back).
        """
        correlation_id = context.current().get("correlation_id")
        if isinstance(message, Envelope):
            envelope = message
        elif correlation_id is None:
            envelope = Envelope(message=message)
        else:
            envelope = Envelope(message=message, correlation_id=correlation_id)
        if self._acting_as is not None:
            envelope = attrs.evolve(
                envelope, principal=self._acting_as, actor=self._acting_as.subject
            )
        if self._tracing is not None and envelope.traceparent is None:
            envelope = attrs.evolve(envelope, traceparent=self._tracing.traceparent())
        queue = _Queue([envelope], committed)
        result = None
        try:
            # The message's ids are bound by ``_apply`` around each handler, and by the slow
            # paths (retries, dead letters) around their log lines: no binding per message.
            while queue:
                current = queue.popleft()
                if isinstance(current.message, Command):
                    outcome = self._handle_command(current, queue)
                    if current is envelope:
                        result = outcome
                else:
                    self._handle_event(current, queue)
        finally:
            if queue.settled and self._on_settled is not None:
                self._on_settled(queue.settled)
        return result

    def dispatch_events(self, envelopes: Iterable[Envelope]) -> None:
        """Re-dispatch already committed events (recovery); handlers de-duplicate them."""
        for envelope in envelopes:
            self.handle(attrs.evolve(envelope, dedupe=True))

    def _handle_command(self, envelope: Envelope, queue: _Queue) -> Any:
        try:
            bound = self._commands[type(envelope.message)]
        except KeyError:
            raise ConfigurationError(f"no handler for command {envelope.name}") from None
        metrics = self._metrics
        try:
            result = self._invoke(bound, envelope, queue)
        except ConcurrencyConflict:
            pass
        except Exception:
            if metrics is not None:
                metrics.failed("command", envelope.name)
            raise
        else:
            if metrics is not None:
                metrics.handled("command", envelope.name)
            return result
        with _bound(envelope):
            return self._retry_command(bound, envelope, queue)

    def _retry_command(self, bound: BoundHandler, envelope: Envelope, queue: _Queue) -> Any:
        metrics = self._metrics
        retrying = self._retry.after_conflict(
            lambda state: self._retrying(envelope, bound, state.attempt_number)
        )
        self._retrying(envelope, bound, 0)
        try:
            result = retrying(self._invoke, bound, envelope, queue)
        except Exception:
            if metrics is not None:
                metrics.failed("command", envelope.name)
            raise
        if metrics is not None:
            metrics.handled("command", envelope.name)
        return result

    def _retrying(self, envelope: Envelope, bound: BoundHandler, attempt: int) -> None:
        if attempt:
            log.info("retrying after conflict", extra={"handler": bound.name, "attempt": attempt})
        if self._metrics is not None:
            self._metrics.retried("command", envelope.name)

    def _handle_event(self, envelope: Envelope, queue: _Queue) -> None:
        handlers = self._events.get(type(envelope.message), ())
        self._reactions.run(envelope, handlers, self._invoke, queue)

    def _invoke(self, bound: BoundHandler, envelope: Envelope, queue: _Queue) -> Any:
        if self._tracing is None:
            return self._apply(bound, envelope, queue)
        command = isinstance(envelope.message, Command)
        name = f"command {envelope.name}" if command else f"reaction {envelope.name} {bound.name}"
        attributes = {
            "shop.correlation_id": envelope.correlation_id,
            "shop.message_id": envelope.message_id,
            "shop.message_type": envelope.name,
            "shop.handler": bound.name,
        }
        with self._tracing.span(name, parent=envelope.traceparent, attributes=attributes):
            return self._apply(bound, envelope, queue)

    def _apply(self, bound: BoundHandler, envelope: Envelope, queue: _Queue) -> Any:
        kwargs = bound.dependencies(envelope)
        uow = kwargs.get("uow")
        if uow is not None:
            uow.handling = Handling(envelope=envelope, handler=bound.name, tracing=self._tracing)
        token = context.push(
            correlation_id=envelope.correlation_id,
            message_id=envelope.message_id,
            handler=bound.name,
        )
        try:
            result = bound.handler(envelope.message, **kwargs)
        except AlreadyHandled:
            log.info(
                "already handled",
                extra={"handler": bound.name, "message_id": envelope.message_id},
            )
            return None
        finally:
            context.pop(token)
        if uow is not None:
            committed = list(uow.collect_new_events())
            if committed:
                queue.extend(committed)
                if queue.committed is not None:
                    queue.committed.extend(committed)
                if self._on_settled is not None:
                    queue.settled.extend(committed)
                if self._on_commit is not None:
                    self._on_commit(committed)
        return result


def _bound(envelope: Envelope) -> AbstractContextManager[None]:
    """The message's ids bound around the bus's own log lines about it."""
    return context.bound(correlation_id=envelope.correlation_id, message_id=envelope.message_id)


class _Queue(deque[Envelope]):
    """The messages a ``handle`` call has yet to handle, and where it reports its commits."""

    def __init__(self, messages: Iterable[Envelope], committed: list[Envelope] | None) -> None:
        super().__init__(messages)
        self.committed = committed
        self.settled: list[Envelope] = []
