"""The Redis names of the contract, all under one prefix.

``<prefix>.events.<snake_name>`` channels and the ``<prefix>.events`` stream go out;
``<prefix>.commands.<snake_name>`` channels and the ``<prefix>.commands`` stream come in;
``<prefix>.dead_letters`` keeps what could not be processed.
"""

from __future__ import annotations

import re

import attrs

from seedwork.core.errors import MessageError

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def snake_case(name: str) -> str:
    """``BatchQuantityChanged`` → ``batch_quantity_changed``."""
    return _CAMEL.sub("_", name).lower()


def camel_case(name: str) -> str:
    """``batch_quantity_changed`` → ``BatchQuantityChanged``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@attrs.frozen
class Channels:
    """The Redis channel and stream names under one prefix."""

    prefix: str

    def event_channel(self, name: str) -> str:
        """The pub/sub channel of an event type."""
        return f"{self.prefix}.events.{snake_case(name)}"

    def command_channel(self, name: str) -> str:
        """The pub/sub channel of a command type."""
        return f"{self.prefix}.commands.{snake_case(name)}"

    @property
    def events_stream(self) -> str:
        """The stream every published event is appended to."""
        return f"{self.prefix}.events"

    @property
    def commands_pattern(self) -> str:
        """The pattern matching every command channel."""
        return f"{self.prefix}.commands.*"

    @property
    def commands_stream(self) -> str:
        """The durable stream of incoming commands."""
        return f"{self.prefix}.commands"

    @property
    def dead_letters_stream(self) -> str:
        """The stream of messages that could not be processed."""
        return f"{self.prefix}.dead_letters"

    def command_name(self, channel: str) -> str | None:
        """The command type a command channel names, or None for a channel outside
        ``<prefix>.commands.``; ``MessageError`` for any other name inside it."""
        head = f"{self.prefix}.commands."
        if not channel.startswith(head):
            return None
        suffix = channel[len(head) :]
        name = camel_case(suffix)
        if not _SNAKE.fullmatch(suffix) or snake_case(name) != suffix:
            raise MessageError(
                f"the channel {channel!r} is not a command channel ({head}<snake_case_name>)"
            )
        return name
