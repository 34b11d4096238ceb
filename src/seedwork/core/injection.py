"""Dependency injection by parameter name, resolved once when the bus is built."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from seedwork.core.errors import ConfigurationError
from seedwork.core.messages import Envelope

Handler = Callable[..., Any]


@attrs.frozen
class Dependencies:
    """What handlers may ask for by parameter name.

    ``values`` are shared objects handed out as they are; ``factories`` are called once
    per handler invocation (a unit of work must never be shared between messages);
    ``from_envelope`` are derived from the envelope being handled (who sent it, say).
    """

    values: Mapping[str, Any] = attrs.field(factory=dict)
    factories: Mapping[str, Callable[[], Any]] = attrs.field(factory=dict)
    from_envelope: Mapping[str, Callable[[Envelope], Any]] = attrs.field(factory=dict)

    def names(self) -> set[str]:
        """Every dependency name known."""
        return set(self.values) | set(self.factories) | set(self.from_envelope)


def handler_name(handler: Handler) -> str:
    """A stable name for a handler: module and qualified name."""
    module = getattr(handler, "__module__", "?")
    return f"{module}.{getattr(handler, '__qualname__', repr(handler))}"


@attrs.frozen
class BoundHandler:
    """A handler with its dependencies resolved: ``call(message)`` builds fresh ones per call."""

    name: str
    handler: Handler
    values: Mapping[str, Any]
    factories: tuple[tuple[str, Callable[[], Any]], ...]
    from_envelope: tuple[tuple[str, Callable[[Envelope], Any]], ...] = ()

    def dependencies(self, envelope: Envelope | None = None) -> dict[str, Any]:
        """The keyword arguments for one invocation (fresh per-call objects included)."""
        kwargs = dict(self.values)
        for name, factory in self.factories:
            kwargs[name] = factory()
        if envelope is not None:
            for name, derive in self.from_envelope:
                kwargs[name] = derive(envelope)
        return kwargs


def bind(handler: Handler, dependencies: Dependencies) -> BoundHandler:
    """Resolve a handler's parameters after the first against the dependencies.

    An unknown parameter is a ``ConfigurationError`` now, not a ``TypeError`` at call time.
    """
    parameters = list(inspect.signature(handler).parameters.values())
    if not parameters:
        raise ConfigurationError(f"handler {handler_name(handler)} takes no message parameter")
    values: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    derived: list[tuple[str, Callable[[Envelope], Any]]] = []
    for parameter in parameters[1:]:
        name = parameter.name
        if name in dependencies.from_envelope:
            derived.append((name, dependencies.from_envelope[name]))
        elif name in dependencies.factories:
            factories.append((name, dependencies.factories[name]))
        elif name in dependencies.values:
            values[name] = dependencies.values[name]
        elif parameter.default is inspect.Parameter.empty:
            known = ", ".join(sorted(dependencies.names())) or "none"
            raise ConfigurationError(
                f"handler {handler_name(handler)} asks for unknown dependency {name!r} "
                f"(known: {known})"
            )
    return BoundHandler(handler_name(handler), handler, values, tuple(factories), tuple(derived))
