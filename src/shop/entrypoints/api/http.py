"""Request to command, and the answers: what every endpoint shares.

Bodies are read strictly (JSON object, ``application/json``), structured into commands with a
cattrs converter whose errors name the field (``price.amount``); path ids that cannot exist
answer 404 before any command is built.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn
from flask import Response, abort, current_app, jsonify, request

from seedwork.bus import MessageBus
from seedwork.errors import FieldError, InvalidPayload
from seedwork.messages import Command
from seedwork.serialization import make_converter
from shop.domain.errors import InvalidValue
from shop.entrypoints.problems import MAX_BODY
from shop.views.queries import ReadModels, View

C = TypeVar("C", bound=Command)

# Beyond what any column holds: refused as invalid rather than failing in the database.
LARGEST_INTEGER = 2**31 - 1


def _text(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError("must be a string")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _integer(value: Any, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("must be an integer")
    if abs(value) > LARGEST_INTEGER:
        raise ValueError(f"must be at most {LARGEST_INTEGER}")
    return value


def api_converter() -> cattrs.Converter:
    """The message converter, stricter about text and integers that come from outside, and
    naming every bad field of an object (not only the first)."""
    converter = make_converter()
    converter.register_structure_hook(str, _text)
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook_factory(attrs.has, lambda cls: _objects(converter, cls))
    return converter


def _objects(converter: cattrs.Converter, cls: type) -> Callable[[Any, type], Any]:
    """How to structure the attrs class ``cls`` from a JSON object.

    cattrs stops at structural errors (a missing or wrongly typed field) before the class's
    validators run, and attrs stops at its first failing validator; so when anything fails,
    each field is structured and validated on its own, and every bad field is reported.
    """
    structure: Callable[[Any, type], Any] = make_dict_structure_fn(cls, converter)
    attrs.resolve_types(cls)
    fields = [field for field in attrs.fields(cls) if field.init]
    required = [field.name for field in fields if field.default is attrs.NOTHING]
    shape = f"must be an object with {_listing(required)}" if required else "must be an object"

    def hook(value: Any, _: type) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(shape)
        try:
            return structure(value, cls)
        except (ClassValidationError, ValueError, TypeError) as error:
            found = _each_field(converter, cls, fields, value)
            if not found:
                raise
            raise ClassValidationError(f"While structuring {cls.__name__}", found, cls) from error

    return hook


def _each_field(
    converter: cattrs.Converter,
    cls: type,
    fields: list[attrs.Attribute[Any]],
    value: Mapping[str, Any],
) -> list[Exception]:
    found: list[Exception] = []
    for field in fields:
        try:
            if field.name not in value:
                if field.default is attrs.NOTHING:
                    raise KeyError(field.name)
                continue
            structured = converter.structure(value[field.name], field.type)  # type: ignore[arg-type]
            if field.validator is not None:
                field.validator(None, field, structured)
        except (
            ClassValidationError,
            IterableValidationError,
            KeyError,
            ValueError,
            TypeError,
        ) as error:
            error.add_note(
                AttributeValidationNote(
                    f"Structuring class {cls.__qualname__} @ attribute {field.name}",
                    field.name,
                    field.type,
                )
            )
            found.append(error)
    return found


def _listing(names: list[str]) -> str:
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + f" and {names[-1]}"


CONVERTER = api_converter()


def bus() -> MessageBus:
    """The application's message bus."""
    found: MessageBus = current_app.extensions["bus"]
    return found


def views() -> ReadModels:
    """The application's read models."""
    found: ReadModels = current_app.extensions["views"]
    return found


def path_id(value: str, longest: int = 100) -> str:
    """A path id; one that no resource can have is simply not found."""
    if not value.strip() or len(value) > longest or "\x00" in value:
        abort(404, description="no such resource")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        abort(404, description="no such resource")
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _body() -> bytes:
    """The raw body, at most ``MAX_BODY`` bytes, else 413.

    A body without ``Content-Length`` (chunked) is read up to one byte past the limit: Werkzeug
    would otherwise cut it silently at ``MAX_CONTENT_LENGTH`` and the truncated body would pass.
    """
    request.max_content_length = MAX_BODY + 1
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY:
        chunk = stream.read(MAX_BODY + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY:
        abort(413)
    return b"".join(chunks)


def json_body() -> dict[str, Any]:
    """The request body: a JSON object sent as ``application/json`` (else 415 or 400)."""
    if request.mimetype != "application/json":
        abort(415, description="the body must be application/json")
    data = _body()
    try:
        body = json.loads(data, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        abort(400, description="the body is not valid JSON")
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body


def command(cls: type[C], body: dict[str, Any], **path: Any) -> C:
    """The command from body fields and path ids; ``InvalidPayload`` names every bad field."""
    try:
        return CONVERTER.structure({**body, **path}, cls)
    except (ClassValidationError, IterableValidationError) as error:
        found: list[FieldError] = []
        _walk(error, "", found)
        raise InvalidPayload(found) from None
    except (ValueError, TypeError) as error:
        raise InvalidPayload([FieldError("", str(error) or "invalid body")]) from None


def _walk(error: BaseException, path: str, found: list[FieldError]) -> None:
    if isinstance(error, ClassValidationError | IterableValidationError):
        for sub in error.exceptions:
            _walk(sub, _join(path, _note(sub)), found)
    elif isinstance(error, KeyError):
        found.append(FieldError(path, "is required"))
    elif isinstance(error, InvalidValue):
        field = path if path.rsplit(".", 1)[-1] == error.field else _join(path, error.field)
        found.append(FieldError(field, error.message))
    else:
        found.append(FieldError(path, str(error) or type(error).__name__))


def _note(error: BaseException) -> str:
    for note in getattr(error, "__notes__", []):
        for attribute in ("name", "index"):
            value = getattr(note, attribute, None)
            if value is not None:
                return str(value)
    return ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def answer(view: View | None, status: int = 200, **headers: str) -> Response:
    """A JSON answer; a missing view (gone meanwhile) is not found."""
    if view is None:
        abort(404, description="no such resource")
    response = jsonify(view)
    response.status_code = status
    response.headers.update(headers)
    return response
