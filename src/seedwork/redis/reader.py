"""Raw Redis message bytes → a command envelope, or precisely why not: the one place it is read.

``CommandReader.decode`` takes any bytes on any channel and never raises: it answers an
envelope, or the ``MessageError`` that makes the message a dead letter (too large, not UTF-8,
not strict JSON, text with NUL or a lone surrogate, an odd channel name, a bad envelope, a
type not accepted, invalid fields). ``read`` is the same, raising that error.

A message may be a full envelope, an envelope without ``type`` on a channel that names it,
or a bare payload. Messages from the stream without a ``message_id`` get one derived from
their stream entry id, so a re-delivered entry is still applied once; bare payloads on
pub/sub have no identity and are not de-duplicated.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from typing import Any

import attrs

from seedwork.core.errors import FieldError, InvalidPayload, MessageError
from seedwork.core.messages import Envelope
from seedwork.core.serialization import ENVELOPE_FIELDS, Serializer
from seedwork.redis.channels import Channels
from seedwork.redis.wire import check_text, json_object, shown

log = logging.getLogger("seedwork.redis.consumer")

_STREAM_IDS = uuid.UUID("6f1c4d1e-5f0b-4a59-9b1e-3c2b8d7a0e11")

#: Envelope ids are stored in columns this wide (a UUID's text).
LONGEST_ID = 36


class NotAccepted(MessageError):
    """A well-formed message of a type this consumer does not take."""


class CommandReader:
    """Turns raw message bytes into a command envelope, or says precisely why not."""

    def __init__(
        self, serializer: Serializer, channels: Channels, accepted: Collection[str]
    ) -> None:
        self._serializer = serializer
        self._channels = channels
        self._accepted = frozenset(accepted)

    def decode(
        self, raw: str | bytes, channel: str | bytes, stream_entry: str | None = None
    ) -> Envelope | MessageError:
        """The envelope to handle, or why there is none; never raises, whatever the bytes."""
        try:
            return self._read(raw, channel, stream_entry)
        except MessageError as error:
            return error
        except Exception as error:  # no message may escape as anything else
            log.warning("a message could not be read channel=%s", shown(channel), exc_info=True)
            return MessageError(f"could not be read ({type(error).__name__})")

    def read(
        self, raw: str | bytes, channel: str | bytes, stream_entry: str | None = None
    ) -> Envelope:
        """The envelope to handle; ``MessageError`` (or ``NotAccepted``) when it cannot be."""
        decoded = self.decode(raw, channel, stream_entry)
        if isinstance(decoded, MessageError):
            raise decoded
        return decoded

    def _read(self, raw: str | bytes, channel: str | bytes, stream_entry: str | None) -> Envelope:
        if isinstance(channel, bytes):
            try:
                channel = channel.decode("utf-8")
            except UnicodeDecodeError:
                raise MessageError(f"the channel name is not UTF-8: {shown(channel)}") from None
        named = self._channels.command_name(channel)
        data = json_object(raw)
        envelope = data if set(ENVELOPE_FIELDS) & data.keys() else {"payload": data}
        _check_envelope_text(envelope)
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


def _check_envelope_text(envelope: dict[str, Any]) -> None:
    """Text fit to store everywhere; payload fields named as in the payload (as over HTTP)."""
    found: list[FieldError] = []
    head = {key: value for key, value in envelope.items() if key != "payload"}
    for part in (head, envelope.get("payload")):
        try:
            check_text(part)
        except InvalidPayload as error:
            found.extend(error.errors)
    for key in ("message_id", "correlation_id", "causation_id"):
        value = envelope.get(key)
        if isinstance(value, str) and len(value) > LONGEST_ID:
            found.append(FieldError(key, f"must be at most {LONGEST_ID} characters"))
    if found:
        raise InvalidPayload(found)
