"""Payloads (dicts from JSON) into messages, strictly, with cattrs: the same rules at every door.

Strict means: scalars of exactly the declared JSON type, text without NUL characters or lone
surrogates, integers within bounds, and no field the class does not declare. When anything is
wrong, every bad field is named by its dotted path (``price.amount``, ``price.colour``), not only
the first: structuring errors become ``InvalidPayload`` with one ``FieldError`` per field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn

from seedwork.core.errors import FieldError, InvalidPayload

T = TypeVar("T")

UNKNOWN_FIELD = "is not a known field"


def make_converter(*, largest_integer: int | None = None) -> cattrs.Converter:
    """A strict converter for payloads; ``largest_integer`` bounds every integer (both signs)."""
    converter = cattrs.Converter()
    converter.register_unstructure_hook(date, lambda d: d.isoformat())
    converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
    converter.register_unstructure_hook(Enum, lambda e: e.value)
    # A str enum is a str too: without its own hooks, the str ones would take it as plain text.
    converter.register_unstructure_hook(StrEnum, lambda e: e.value if isinstance(e, Enum) else e)
    converter.register_structure_hook(date, _structure_date)
    converter.register_structure_hook(datetime, structure_datetime)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(StrEnum, _structure_str_enum)
    converter.register_structure_hook(int, _integers(largest_integer))
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook_factory(attrs.has, lambda cls: _objects(converter, cls))
    return converter


def structure(converter: cattrs.Converter, cls: type[T], payload: Any) -> T:
    """``cls`` from a JSON object; ``InvalidPayload`` names every bad or unknown field."""
    if not isinstance(payload, dict):
        raise InvalidPayload([FieldError("", "must be a JSON object")])
    try:
        return converter.structure(payload, cls)
    except (ClassValidationError, IterableValidationError, ForbiddenExtraKeysError) as error:
        raise InvalidPayload(field_errors(error)) from None
    except (ValueError, TypeError) as error:
        raise InvalidPayload([FieldError("", _describe(error))]) from None


def _structure_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError("must be a string")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _structure_str_enum(value: Any, cls: type[StrEnum]) -> StrEnum:
    """The member named by a text: ``cls.parse(text)`` when the enum has its own rule."""
    text = _structure_str(value, str)
    parse = getattr(cls, "parse", None)
    if parse is not None:
        member: StrEnum = parse(text)
        return member
    try:
        return cls(text)
    except ValueError:
        raise ValueError(f"must be one of {', '.join(m.value for m in cls)}") from None


def _integers(largest: int | None) -> Callable[[Any, type], int]:
    def structure_int(value: Any, _: type) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("must be an integer")
        if largest is not None and abs(value) > largest:
            raise ValueError(f"must be at most {largest}")
        return value

    return structure_int


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


def structure_datetime(value: Any, _: type = datetime) -> datetime:
    """An ISO 8601 date-time from a string; ``TypeError``/``ValueError`` otherwise."""
    if not isinstance(value, str):
        raise TypeError("must be an ISO 8601 date-time string")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time") from None


def _objects(converter: cattrs.Converter, cls: type) -> Callable[[Any, type], Any]:
    """How to structure the attrs class ``cls`` from a JSON object.

    cattrs stops at structural errors (a missing or wrongly typed field) before the class's
    validators run, and attrs stops at its first failing validator; so when anything fails,
    each field is structured and validated on its own, and every bad field is reported, with
    the keys the class does not know.
    """
    structure_fn: Callable[[Any, type], Any] = make_dict_structure_fn(
        cls, converter, _cattrs_forbid_extra_keys=False
    )
    attrs.resolve_types(cls)
    fields = [field for field in attrs.fields(cls) if field.init]
    known = {field.alias or field.name for field in fields}
    required = [field.name for field in fields if field.default is attrs.NOTHING]
    shape = f"must be an object with {_listing(required)}" if required else "must be an object"

    def hook(value: Any, _: type) -> Any:
        if not isinstance(value, Mapping):
            raise TypeError(shape)
        found: list[Exception] = []
        unknown = {str(key) for key in value if key not in known}
        if unknown:
            found.append(ForbiddenExtraKeysError(None, cls, unknown))
        try:
            result = structure_fn(value, cls)
        except (ClassValidationError, ValueError, TypeError) as error:
            found += _each_field(converter, cls, fields, value) or [error]
        if found:
            raise ClassValidationError(f"While structuring {cls.__name__}", found, cls)
        return result

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


def field_errors(error: BaseException) -> list[FieldError]:
    """Flatten a cattrs error tree into dotted-path field errors."""
    found: list[FieldError] = []
    _walk(error, "", found)
    return found or [FieldError("", _describe(error))]


def _walk(error: BaseException, path: str, found: list[FieldError]) -> None:
    if isinstance(error, ForbiddenExtraKeysError):
        found.extend(
            FieldError(_join(path, key), UNKNOWN_FIELD) for key in sorted(error.extra_fields)
        )
    elif isinstance(error, ClassValidationError | IterableValidationError):
        for sub in error.exceptions:
            _walk(sub, _join(path, _note_of(sub)), found)
    elif isinstance(error, KeyError):
        found.append(FieldError(path, "is required"))
    elif isinstance(getattr(error, "field", None), str) and isinstance(
        getattr(error, "message", None), str
    ):
        # A domain error naming its own field (``currency`` of the ``price`` being checked).
        field: str = getattr(error, "field")  # noqa: B009
        named = path if path.rsplit(".", 1)[-1] == field else _join(path, field)
        found.append(FieldError(named, getattr(error, "message")))  # noqa: B009
    else:
        found.append(FieldError(path, _describe(error)))


def _note_of(error: BaseException) -> str:
    for note in getattr(error, "__notes__", []):
        for attribute in ("name", "index"):
            value = getattr(note, attribute, None)
            if value is not None:
                return str(value)
    return ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def _describe(error: BaseException) -> str:
    if isinstance(error, TypeError) and "missing" in str(error) and "argument" in str(error):
        return "is required"
    text = str(error)
    return text or type(error).__name__
