"""Turning messages into JSON envelopes and back: the one JSON reader, and the envelope.

Payloads are structured strictly by ``seedwork.core.structuring``: errors become ``InvalidPayload``
with one ``FieldError`` per bad field, named by its dotted path (``price.amount``).
"""

from __future__ import annotations

import json
from typing import Any

import cattrs

from seedwork.core.errors import FieldError, InvalidPayload, MessageError
from seedwork.core.messages import Envelope, Message, MessageRegistry
from seedwork.core.structuring import make_converter, structure, structure_datetime
from seedwork.observability.traceparent import valid_traceparent

__all__ = ["ENVELOPE_FIELDS", "Serializer", "make_converter", "parse_json"]

ENVELOPE_FIELDS = (
    "message_id",
    "type",
    "version",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "actor",
    "traceparent",
    "payload",
)


def parse_json(text: str | bytes) -> Any:
    """JSON text to values, strictly; ``MessageError`` ("not valid JSON: …") says why not.

    Stricter than ``json.loads``: a key twice in one object (which of the two would count?),
    ``NaN`` and ``Infinity`` (not JSON) are refused. Both doors, HTTP and Redis, read with it.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError:
        raise MessageError("not valid JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise MessageError(f"not valid JSON: {error}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            shown = key if len(key) <= 40 else key[:37] + "..."
            raise ValueError(f"duplicated key {shown!r} in one object")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Serializer:
    """Reads and writes message envelopes as JSON text, and payloads as dicts."""

    def __init__(self, registry: MessageRegistry, converter: cattrs.Converter | None = None):
        self.registry = registry
        self.converter = converter or make_converter()

    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON-ready payload of a message."""
        data: dict[str, Any] = self.converter.unstructure(message)
        return data

    def structure(self, cls: type[Message], payload: Any) -> Message:
        """Build a message from a payload; ``InvalidPayload`` names every bad or unknown field."""
        return structure(self.converter, cls, payload)

    def envelope_dict(self, envelope: Envelope) -> dict[str, Any]:
        """The contract's envelope as a dict."""
        message = envelope.message
        data = {
            "message_id": envelope.message_id,
            "type": message.message_name(),
            "version": message.VERSION,
            "occurred_at": envelope.occurred_at.isoformat(),
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "actor": envelope.actor,
            "payload": self.payload(message),
        }
        if envelope.traceparent is not None:
            data["traceparent"] = envelope.traceparent
        return data

    def dumps(self, envelope: Envelope) -> str:
        """The envelope as compact JSON text."""
        return json.dumps(self.envelope_dict(envelope), separators=(",", ":"))

    def from_dict(self, data: Any, *, default_type: str | None = None) -> Envelope:
        """Read an envelope dict (``type`` may be defaulted, e.g. by a channel name)."""
        if not isinstance(data, dict):
            raise MessageError("message must be a JSON object")
        name = data.get("type", default_type)
        if not isinstance(name, str):
            raise MessageError("message has no type")
        version = data.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int):
            raise MessageError("version must be an integer")
        cls = self.registry.get(name, version)
        message = self.structure(cls, data.get("payload"))
        extra: dict[str, Any] = {}
        for key in ("message_id", "correlation_id"):
            value = data.get(key)
            if value is not None:
                if not isinstance(value, str) or not value:
                    raise MessageError(f"{key} must be a non-empty string")
                extra[key] = value
        causation = data.get("causation_id")
        if causation is not None and not isinstance(causation, str):
            raise MessageError("causation_id must be a string or null")
        actor = data.get("actor")
        if actor is not None and not isinstance(actor, str):
            raise MessageError("actor must be a string or null")
        occurred = data.get("occurred_at")
        if occurred is not None:
            try:
                extra["occurred_at"] = structure_datetime(occurred)
            except (TypeError, ValueError) as error:
                raise InvalidPayload([FieldError("occurred_at", str(error))]) from None
        # A trace context that cannot be continued is ignored, as W3C Trace Context asks.
        extra["traceparent"] = valid_traceparent(data.get("traceparent"))
        return Envelope(message=message, causation_id=causation, actor=actor, **extra)

    def loads(self, text: str | bytes, *, default_type: str | None = None) -> Envelope:
        """Parse JSON text into an envelope; ``MessageError`` when it cannot be read."""
        return self.from_dict(parse_json(text), default_type=default_type)
