"""Turning messages into JSON envelopes and back, with cattrs.

Structuring errors become ``InvalidPayload`` with one ``FieldError`` per bad field,
named by its dotted path (``price.amount``), so callers can answer precisely.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from seedwork.errors import FieldError, InvalidPayload, MessageError
from seedwork.messages import Envelope, Message, MessageRegistry

ENVELOPE_FIELDS = (
    "message_id",
    "type",
    "version",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "payload",
)


def make_converter() -> cattrs.Converter:
    """A converter for message payloads: ISO dates, enums by value, strict types."""
    converter = cattrs.Converter(forbid_extra_keys=False)
    converter.register_unstructure_hook(date, lambda d: d.isoformat())
    converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
    converter.register_structure_hook(date, _structure_date)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_unstructure_hook(Enum, lambda e: e.value)
    return converter


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError("must be a string")
    return value


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("must be an integer")
    return value


def _structure_bool(value: Any, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError("must be true or false")
    return value


def _structure_date(value: Any, _: type) -> date:
    if not isinstance(value, str):
        raise TypeError("must be a date string YYYY-MM-DD")
    # date.fromisoformat also takes 20261201 and 2026-W48-2 (Python 3.11): only YYYY-MM-DD is.
    if not (len(value) == 10 and value.isascii() and value[4] == value[7] == "-"):
        raise ValueError("must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date YYYY-MM-DD") from None


def _structure_datetime(value: Any, _: type) -> datetime:
    if not isinstance(value, str):
        raise TypeError("must be an ISO 8601 date-time string")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time") from None


def field_errors(error: BaseException) -> list[FieldError]:
    """Flatten a cattrs error tree into dotted-path field errors."""
    found: list[FieldError] = []
    _walk(error, "", found)
    return found or [FieldError("", _describe(error))]


def _walk(error: BaseException, path: str, found: list[FieldError]) -> None:
    if isinstance(error, ForbiddenExtraKeysError):
        for key in sorted(error.extra_fields):
            found.append(FieldError(_join(path, key), "is not a known field"))
        return
    if isinstance(error, ClassValidationError | IterableValidationError):
        for sub in error.exceptions:
            note = _note_of(sub)
            _walk(sub, _join(path, note) if note else path, found)
        return
    if isinstance(error, KeyError):
        found.append(FieldError(path, "is required"))
        return
    found.append(FieldError(path, _describe(error)))


def _note_of(error: BaseException) -> str | None:
    for note in getattr(error, "__notes__", []):
        name = getattr(note, "name", None)
        if name is not None:
            return str(name)
        index = getattr(note, "index", None)
        if index is not None:
            return str(index)
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _describe(error: BaseException) -> str:
    if isinstance(error, TypeError) and "missing" in str(error) and "argument" in str(error):
        return "is required"
    text = str(error)
    return text or type(error).__name__


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
        """Build a message from a payload; ``InvalidPayload`` names every bad field."""
        if not isinstance(payload, dict):
            raise InvalidPayload([FieldError("", "must be a JSON object")])
        try:
            return self.converter.structure(payload, cls)
        except (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError) as error:
            raise InvalidPayload(field_errors(error)) from None
        except (ValueError, TypeError) as error:
            raise InvalidPayload([FieldError("", _describe(error))]) from None

    def envelope_dict(self, envelope: Envelope) -> dict[str, Any]:
        """The contract's envelope as a dict."""
        message = envelope.message
        return {
            "message_id": envelope.message_id,
            "type": message.message_name(),
            "version": message.VERSION,
            "occurred_at": envelope.occurred_at.isoformat(),
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "payload": self.payload(message),
        }

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
        occurred = data.get("occurred_at")
        if occurred is not None:
            try:
                extra["occurred_at"] = _structure_datetime(occurred, datetime)
            except (TypeError, ValueError) as error:
                raise InvalidPayload([FieldError("occurred_at", str(error))]) from None
        return Envelope(message=message, causation_id=causation, **extra)

    def loads(self, text: str | bytes, *, default_type: str | None = None) -> Envelope:
        """Parse JSON text into an envelope; ``MessageError`` when it cannot be read."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise MessageError(f"not valid JSON: {error}") from None
        except RecursionError:
            raise MessageError("not valid JSON: nested too deeply") from None
        return self.from_dict(data, default_type=default_type)
