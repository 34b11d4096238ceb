"""Why a message failed: a transient failure (retry it) or its own fault (a dead letter).

Transient: a backing service cannot be reached or timed out, the connection broke, or
another transaction won (serialization failure, deadlock, optimistic-lock conflict). None
of these says anything about the message; it is applied once they pass. Everything else
(invalid fields, a business rule refusing it, an unknown type, a value the database
rejects) is the message's own fault.

The core knows no driver, so ``Failures`` is composed: the core's own (``CORE``) with what
each adapter package adds (``seedwork.sqlalchemy.failures.DATABASE``,
``seedwork.redis.failures.REDIS``), as ``CORE | DATABASE | REDIS`` at the composition root.

``describe`` turns a failure into the dead letter's ``error``: the kind, and the field when
one is known (``InvalidField: reference: …``); an adapter's describer may name its errors
more precisely (the database's never carries SQL text or parameters).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from seedwork.core.errors import ConcurrencyConflict, InvalidPayload

#: Names a failure for a dead letter, or returns None when it is not one of its own.
Describer = Callable[[BaseException], "str | None"]


@attrs.frozen
class Failures:
    """Which failures are transient, and how each is described for a dead letter."""

    transient_types: tuple[type[BaseException], ...] = ()
    transient_checks: tuple[Callable[[BaseException], bool], ...] = ()
    describers: tuple[Describer, ...] = ()

    def __or__(self, other: Failures) -> Failures:
        return Failures(
            self.transient_types + other.transient_types,
            self.transient_checks + other.transient_checks,
            self.describers + other.describers,
        )

    def is_transient(self, error: BaseException) -> bool:
        """Whether ``error`` (or an error it was raised from) is no fault of the message."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            if isinstance(current, self.transient_types):
                return True
            if any(check(current) for check in self.transient_checks):
                return True
            current = current.__cause__
        return False

    def describe(self, error: BaseException) -> str:
        """A failure as ``Kind: field: message`` for a dead letter."""
        if isinstance(error, InvalidPayload):
            fields = "; ".join(
                f"{e.field}: {e.message}" if e.field else e.message for e in error.errors
            )
            return f"{type(error).__name__}: {fields}"
        for describer in self.describers:
            described = describer(error)
            if described is not None:
                return described
        return f"{type(error).__name__}: {error}"


#: What the core itself knows to be transient: a lost race, and the built-in network errors.
CORE = Failures(transient_types=(ConcurrencyConflict, ConnectionError, TimeoutError))
