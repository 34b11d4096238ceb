"""Raw message bytes → a JSON object, strictly, or a ``MessageError`` saying precisely why not.

What comes in over Redis is bytes, and any bytes at all may come: too many of them, invalid
UTF-8, JSON with ``NaN`` or a key given twice, or escapes such as ``\\ud800`` that decode to a
lone surrogate (a ``str`` that cannot be encoded again: not in a hash, not in Redis, not in
PostgreSQL) or to NUL (which no PostgreSQL text holds). Each is refused here, before anything
else looks at the message, naming the field when there is one.
"""

from __future__ import annotations

from typing import Any

from seedwork.core.errors import FieldError, InvalidPayload, MessageError
from seedwork.core.serialization import parse_json

#: The largest message read at all (CONTRACT §3); a larger one is a dead letter unread.
MAX_MESSAGE_BYTES = 64 * 1024


class MessageTooLarge(MessageError):
    """A message over ``MAX_MESSAGE_BYTES``."""


def as_bytes(raw: str | bytes) -> bytes:
    """The bytes of a message, exactly; text is encoded (a lone surrogate included, as is)."""
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    return str(raw).encode("utf-8", "surrogatepass")


def json_object(raw: str | bytes) -> dict[str, Any]:
    """The JSON object a message holds; ``MessageError`` when it holds none."""
    data = as_bytes(raw)
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"{len(data)} bytes, at most {MAX_MESSAGE_BYTES} are read")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MessageError(f"not valid UTF-8 (byte {error.start})") from None
    document = parse_json(text)
    if not isinstance(document, dict):
        raise MessageError(f"message must be a JSON object, not {type(document).__name__}")
    return document


def check_text(value: Any, path: str = "") -> None:
    """Refuse any text in ``value`` (keys too) with NUL or a lone surrogate, naming each field."""
    found: list[FieldError] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                found.append(FieldError(where, problem))
        elif isinstance(item, dict):
            for key, inner in item.items():
                problem = text_problem(key)
                if problem:
                    found.append(FieldError(where, f"has a field name that {problem}"))
                    continue
                stack.append((f"{where}.{key}" if where else key, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}.{index}" if where else str(index), inner)
                         for index, inner in enumerate(item))  # fmt: skip
    if found:
        raise InvalidPayload(sorted(found, key=lambda error: error.field))


def text_problem(text: str) -> str | None:
    """What makes ``text`` unfit to store, or None."""
    if "\x00" in text:
        return "must not contain NUL characters"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it holds a lone surrogate)"
    return None


def shown(raw: str | bytes) -> str:
    """Any text or bytes as printable text, for an error or a log line."""
    return as_bytes(raw).decode("utf-8", "backslashreplace")
