"""Entities and aggregate roots: identity equality and recorded domain events."""

from __future__ import annotations

from typing import Any, ClassVar

from seedwork.core.messages import Event


class Entity:
    """An object defined by its identity: two entities are equal when type and identity match.

    Subclasses name the attribute holding their identity in ``identity_field``.
    """

    identity_field: ClassVar[str] = "id"

    @property
    def identity(self) -> Any:
        """The value that identifies this entity."""
        return getattr(self, self.identity_field)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self.identity == other.identity)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.identity))


class AggregateRoot(Entity):
    """An entity guarding a consistency boundary; it records the events of its changes.

    The event list lives in ``__dict__`` and is created lazily, because an ORM
    loading the aggregate does not call ``__init__``.
    """

    def record(self, event: Event) -> None:
        """Remember an event, to be published once the change is committed."""
        self.__dict__.setdefault("_pending_events", []).append(event)

    @property
    def pending_events(self) -> tuple[Event, ...]:
        """Events recorded and not yet collected."""
        return tuple(self.__dict__.get("_pending_events", ()))

    def collect_events(self) -> list[Event]:
        """Hand over the recorded events and forget them."""
        events: list[Event] = self.__dict__.pop("_pending_events", [])
        return events
