"""Raw Redis message text → a command envelope, or precisely why not.

A message may be a full envelope, an envelope without ``type`` on a channel that names it,
or a bare payload. Messages from the stream without a ``message_id`` get one derived from
their stream entry id, so a re-delivered entry is still applied once; bare payloads on
pub/sub have no identity and are not de-duplicated.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

import attrs

from seedwork.errors import MessageError
from seedwork.messages import Envelope
from seedwork.redis_streams import Channels
from seedwork.serialization import ENVELOPE_FIELDS, Serializer, parse_json

_STREAM_IDS = uuid.UUID("6f1c4d1e-5f0b-4a59-9b1e-3c2b8d7a0e11")


class NotAccepted(MessageError):
    """A well-formed message of a type this consumer does not take."""


class CommandReader:
    """Turns raw message text into a command envelope, or says precisely why not."""

    def __init__(
        self, serializer: Serializer, channels: Channels, accepted: Collection[str]
    ) -> None:
        self._serializer = serializer
        self._channels = channels
        self._accepted = frozenset(accepted)

    def read(self, raw: str | bytes, channel: str, stream_entry: str | None = None) -> Envelope:
        """The envelope to handle; ``MessageError`` (or ``NotAccepted``) when it cannot be."""
        data = parse_json(raw)
        if not isinstance(data, dict):
            raise MessageError(f"message must be a JSON object, not {type(data).__name__}")
        named = self._channels.command_name(channel)
        envelope = data if set(ENVELOPE_FIELDS) & data.keys() else {"payload": data}
        name = envelope.get("type", named)
        if name is None:
            raise MessageError("message has no type (and the channel names none)")
        if not isinstance(name, str):
            raise MessageError("type must be a string")
        if named is not None and name != named:
            raise MessageError(f"type {name!r} does not match channel {channel!r}")
        if name not in self._accepted:
            accepted = ", ".join(sorted(self._accepted))
            raise NotAccepted(f"message type {name!r} is not accepted (accepted: {accepted})")
        identified = envelope.get("message_id") is not None
        if not identified and stream_entry is not None:
            derived = uuid.uuid5(_STREAM_IDS, f"{channel}/{stream_entry}")
            envelope = {**envelope, "message_id": str(derived)}
            identified = True
        result = self._serializer.from_dict(envelope, default_type=name)
        return attrs.evolve(result, dedupe=identified)
