"""The JSON envelope as it travels (CONTRACT §3), field by field, for the documents.

``Serializer.envelope_dict`` writes ``OutboundEnvelope``; ``Serializer.from_dict`` reads
``InboundEnvelope``, where everything but the payload may be left out (the channel names the
type, a new id is given). ``payload`` is the message's own schema, set per message type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class OutboundEnvelope:
    """A message as the shop sends it: ids, type and version, when, why, and the payload."""

    message_id: str
    type: str
    version: int
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None
    payload: dict[str, Any]
    actor: str | None = None
    traceparent: str = attrs.field(default="", metadata={"json_schema": {"minLength": 1}})


@attrs.frozen(kw_only=True)
class InboundEnvelope:
    """A message as the shop reads it: only the payload is required (and the type on a
    stream); a message id makes it applied once."""

    payload: dict[str, Any]
    type: str = ""
    version: int = 1
    message_id: str = attrs.field(default="", metadata={"json_schema": {"minLength": 1}})
    occurred_at: datetime | None = None
    correlation_id: str = attrs.field(default="", metadata={"json_schema": {"minLength": 1}})
    causation_id: str | None = None
    actor: str | None = None
    traceparent: str = ""
