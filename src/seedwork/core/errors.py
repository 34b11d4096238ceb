"""Errors raised by seedwork.

SeedworkError
├── ConfigurationError (also ValueError): a setting or the wiring found wrong at start-up
├── MessageError (also ValueError): a message that cannot be read or has no known type
│   └── InvalidPayload: fields missing or invalid, with a list of field errors
├── ConcurrencyConflict: an optimistic-lock conflict; the handler may be retried
└── AlreadyHandled: this message was already applied by this handler (idempotency)
"""

from __future__ import annotations

import attrs


class SeedworkError(Exception):
    """Base of every seedwork error."""


class ConfigurationError(SeedworkError, ValueError):
    """The application is configured or wired wrongly (the message names the setting)."""


class MessageError(SeedworkError, ValueError):
    """A message cannot be read: bad JSON, bad envelope, unknown type."""


@attrs.frozen
class FieldError:
    """One invalid field: its dotted path and what is wrong with it."""

    field: str
    message: str


class InvalidPayload(MessageError):
    """A payload whose fields are missing or invalid."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors) or "invalid payload")


class ConcurrencyConflict(SeedworkError):
    """Another transaction changed the same aggregate first."""


class AlreadyHandled(SeedworkError):
    """The message was already applied by this handler; doing nothing is correct."""
