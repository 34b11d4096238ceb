"""JSON Schema from attrs classes and their type hints: one generator for every document.

The shapes a payload must have are the attrs classes themselves (commands, events, views): a
field's type hint gives its JSON type, as the strict converter of ``seedwork.core.structuring``
reads and writes it (dates as ``YYYY-MM-DD`` strings, enums as their values, tuples as arrays),
and a field's validator adds its own rules when it can say them (``json_schema()``, e.g. a
length or a pattern), as can ``metadata={"json_schema": {...}}``. Each attrs class becomes one
named schema, referenced where it is used; the output is valid JSON Schema 2020-12 and draft-07
alike, so OpenAPI 3.1 and AsyncAPI 3.0 documents share it.
"""

from __future__ import annotations

import datetime
import enum
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

JsonSchema = dict[str, Any]

#: The ``metadata`` key of an attrs field that adds JSON Schema keywords to it.
METADATA_KEY = "json_schema"

_SCALARS: dict[Any, JsonSchema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    type(None): {"type": "null"},
}
_ARRAYS = (tuple, list, frozenset, set, Sequence, Collection)


@runtime_checkable
class Described(Protocol):
    """A validator that can say its rule as JSON Schema keywords."""

    def json_schema(self) -> JsonSchema:
        """The keywords of the rule (``{"minimum": 1}``)."""


class SchemaBuilder:
    """Builds schemas, keeping one named schema per attrs class in ``components``.

    ``ref_prefix`` is where the document keeps them (``#/components/schemas/``).
    """

    def __init__(self, ref_prefix: str = "#/components/schemas/") -> None:
        self.ref_prefix = ref_prefix
        self.components: dict[str, JsonSchema] = {}
        self._named: dict[str, type] = {}

    def ref(self, name: str) -> JsonSchema:
        """A reference to the named schema."""
        return {"$ref": f"{self.ref_prefix}{name}"}

    def schema(self, hint: Any) -> JsonSchema:
        """The schema of a type hint; an attrs class is referenced (and built once)."""
        if attrs.has(hint):
            return self.ref(self.component(hint))
        return self._of_hint(hint)

    def component(
        self, cls: type, *, name: str | None = None, exclude: Collection[str] = ()
    ) -> str:
        """Build ``cls``'s object schema under ``name`` (its class name), without ``exclude``."""
        name = name or cls.__name__
        known = self._named.get(name)
        if known is not None:
            if known is not cls:
                raise ValueError(f"two classes would share the schema name {name!r}")
            return name
        self._named[name] = cls
        self.components[name] = {}  # taken before the fields: a class may refer to itself
        self.components[name] = self.object_schema(cls, exclude=exclude)
        return name

    def object_schema(self, cls: type, *, exclude: Collection[str] = ()) -> JsonSchema:
        """An attrs class as an object schema: its init fields; those without default required."""
        attrs.resolve_types(cls)
        fields = [f for f in attrs.fields(cls) if f.init and f.name not in exclude]
        properties = {(f.alias or f.name): self._field(f) for f in fields}
        required = [f.alias or f.name for f in fields if f.default is attrs.NOTHING]
        schema: JsonSchema = {"type": "object"}
        if cls.__doc__:
            schema["description"] = _first_paragraph(cls.__doc__).replace("``", "`")
        schema["properties"] = properties
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return schema

    def _field(self, field: attrs.Attribute[Any]) -> JsonSchema:
        schema = self.schema(field.type)
        extra: JsonSchema = {}
        for rule in _described(field.validator):
            extra.update(rule.json_schema())
        extra.update(field.metadata.get(METADATA_KEY, {}))
        return _with(schema, extra) if extra else schema

    def _of_hint(self, hint: Any) -> JsonSchema:
        while isinstance(hint, typing.NewType):  # an id: the schema of what it is made of
            hint = hint.__supertype__
        if hint is Any:
            return {}
        if hint in _SCALARS:
            return dict(_SCALARS[hint])
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"type": "string", "enum": [member.value for member in hint]}
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Literal:
            return {"enum": list(args)}
        if origin in (typing.Union, types.UnionType):
            return _nullable(
                [self.schema(arg) for arg in args if arg is not type(None)],
                type(None) in args,
            )
        if origin in _ARRAYS:
            return {"type": "array", "items": self.schema(args[0]) if args else {}}
        if origin in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.schema(args[1])}
        raise TypeError(f"no JSON Schema for the type {hint!r}")


def _nullable(choices: list[JsonSchema], nullable: bool) -> JsonSchema:
    if not nullable:
        return choices[0] if len(choices) == 1 else {"anyOf": choices}
    if len(choices) == 1 and isinstance(choices[0].get("type"), str):
        return {**choices[0], "type": [choices[0]["type"], "null"]}
    return {"anyOf": [*choices, {"type": "null"}]}


def _with(schema: JsonSchema, extra: JsonSchema) -> JsonSchema:
    """``schema`` with ``extra`` keywords; on a reference or a choice, beside it (``allOf``)."""
    if "$ref" in schema or "anyOf" in schema:
        return {"allOf": [schema], **extra}
    return {**schema, **extra}


def _described(validator: Any) -> list[Described]:
    """The rules of a validator that can say themselves, through ``and_`` and ``optional``."""
    if validator is None:
        return []
    found: list[Described] = [validator] if isinstance(validator, Described) else []
    for inner in getattr(validator, "_validators", ()):
        found += _described(inner)
    inner = getattr(validator, "validator", None)
    if inner is not None and inner is not validator:
        found += _described(inner)
    return found


def _first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def describe(rule: Callable[..., Any], schema: JsonSchema) -> Callable[..., Any]:
    """A validator that runs ``rule`` and says ``schema`` (for rules written as functions)."""
    return _DescribedRule(rule, schema)


@attrs.frozen
class _DescribedRule:
    rule: Callable[..., Any]
    keywords: JsonSchema

    def __call__(self, instance: Any, attribute: Any, value: Any) -> None:
        self.rule(instance, attribute, value)

    def json_schema(self) -> JsonSchema:
        """The keywords of the rule."""
        return dict(self.keywords)
