"""For tests: a bus whose events wait until the test delivers them, in any order, repeated.

Commands are handled by a real ``MessageBus`` that knows no event handler; every event committed
(by a command or by a reaction) is held as one ``Delivery`` per handler of its type. The test then
delivers the held pairs in the order it chooses, each to its one real handler through a real bus
(retries, dead letters), and may deliver one again: reactions must be safe in any order and any
number of times. Deliveries skip the inbox, so a repeated one really runs the handler twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from seedwork.core.bus import MessageBus
from seedwork.core.injection import Dependencies, Handler
from seedwork.core.messages import Command, Envelope, Event, Message
from seedwork.core.reactions import DeadLetterSink
from seedwork.core.retry import RetryPolicy


@attrs.frozen
class Delivery:
    """One held event for one of its handlers; ``repeat`` marks a second delivery of it."""

    envelope: Envelope
    handler: int
    repeat: bool = False

    @property
    def event(self) -> Event:
        """The event to deliver."""
        message = self.envelope.message
        assert isinstance(message, Event)
        return message


class HeldEventsBus:
    """Handles commands now; holds their events, and their reactions' events, for ``deliver``."""

    def __init__(
        self,
        *,
        command_handlers: Mapping[type[Command], Handler],
        event_handlers: Mapping[type[Event], Sequence[Handler]],
        dependencies: Dependencies,
        dead_letters: DeadLetterSink,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.held: list[Delivery] = []
        self._event_handlers = {kind: tuple(found) for kind, found in event_handlers.items()}
        self._delivering: type[Message] | None = None

        def bus(events: Mapping[type[Event], Sequence[Handler]]) -> MessageBus:
            return MessageBus(
                command_handlers=command_handlers if not events else {},
                event_handlers=events,
                dependencies=dependencies,
                dead_letters=dead_letters,
                retry=retry or RetryPolicy(),
                on_commit=self._hold,
            )

        self._commands = bus({})
        # One bus per (event type, handler): it can run nothing but that handler.
        self._reactions = {
            (kind, index): bus({kind: [handler]})
            for kind, handlers in self._event_handlers.items()
            for index, handler in enumerate(handlers)
        }

    def handle(self, command: Command) -> Any:
        """Handle a command now (its errors propagate); hold the events it committed."""
        return self._commands.handle(command)

    def deliver(self, position: int, *, again: bool = False) -> Delivery:
        """Deliver the held pair at ``position`` to its handler; ``again`` holds it once more."""
        delivery = self.held.pop(position)
        if again and not delivery.repeat:
            self.held.append(attrs.evolve(delivery, repeat=True))
        kind = type(delivery.event)
        self._delivering = kind
        try:
            self._reactions[kind, delivery.handler].handle(
                attrs.evolve(delivery.envelope, dedupe=False)
            )
        finally:
            self._delivering = None
        return delivery

    def settle(self) -> int:
        """Deliver every held pair, oldest first, until none is left; returns how many ran."""
        delivered = 0
        while self.held:
            self.deliver(0)
            delivered += 1
        return delivered

    def _hold(self, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            kind: Any = type(envelope.message)
            if kind is self._delivering:
                # The one-handler bus would run it at once, out of the test's hands.
                raise AssertionError(f"a reaction to {envelope.name} raised the same event")
            for index in range(len(self._event_handlers.get(kind, ()))):
                self.held.append(Delivery(envelope, index))
