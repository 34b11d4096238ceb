"""The OpenAPI 3.1 document of the HTTP API (CONTRACT §5), generated from the code.

Every operation comes from ``api.operations`` (bodies: the command classes; answers: the view
shapes) and ``api.permissions`` (who may call it); every schema from ``seedwork.core.schema``.
"""

from __future__ import annotations

import re
from typing import Any

from seedwork.core.schema import JsonSchema, SchemaBuilder
from shop.domain import text
from shop.entrypoints.documents import version
from shop.entrypoints.http.api import answers
from shop.entrypoints.http.api.operations import JSON, OPERATIONS, Operation
from shop.entrypoints.http.api.permissions import PERMISSIONS, Access
from shop.entrypoints.http.problems import MEDIA_TYPE as PROBLEM

BEARER = "bearerAuth"
_PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
#: What each path parameter may be (``api.http.path_id``: anything else is 404).
_PATH_RULES = {
    "sku": text.SKU,
    "reference": text.REFERENCE,
    "order_id": text.ID,
    "customer_id": text.ID,
}

#: Each error status: when it answers (CONTRACT §2).
ERRORS = {
    400: "The body is not valid JSON (or has a duplicated key) or not a JSON object.",
    401: "No valid access token.",
    403: "The token's role may not do this.",
    404: "The resource in the path does not exist (or is not the caller's).",
    409: "A business rule forbids it now, or a concurrent change won after retries.",
    413: "The body is larger than 1 MiB.",
    415: "The body is not application/json.",
    422: "Missing, unknown, wrongly typed or invalid fields, each named in `errors`.",
    503: "The database is unreachable; try again after `Retry-After` seconds.",
}
_ERROR_HEADERS = {401: "WWW-Authenticate", 503: "Retry-After"}
_HEADERS = {
    "X-Request-ID": "The request's id: the client's when it sent a valid one, else a new one.",
    "Location": "Where the new resource is.",
    "WWW-Authenticate": 'Bearer realm="shop" (with error="invalid_token" when a token was sent).',
    "Retry-After": "Seconds to wait before trying again.",
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint."""
    builder = SchemaBuilder("#/components/schemas/")
    builder.component(answers.Problem)
    paths: dict[str, dict[str, Any]] = {}
    for (method, rule), operation in OPERATIONS.items():
        described = _operation(builder, method, rule, operation, PERMISSIONS[(method, rule)])
        paths.setdefault(_PARAMETER.sub(r"{\1}", rule), {})[method.lower()] = described
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shop",
            "version": version(),
            "description": "E-commerce order management. Errors are application/problem+json; "
            "the Redis channels are described at /asyncapi.json.",
        },
        "tags": [{"name": name} for name in dict.fromkeys(o.tag for o in OPERATIONS.values())],
        "paths": paths,
        "components": {
            "schemas": builder.components,
            "responses": {str(status): _error(status) for status in ERRORS},
            "headers": {
                name: {"description": about, "required": True, "schema": {"type": "string"}}
                for name, about in _HEADERS.items()
            },
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT with sub, role (customer, warehouse or staff), exp, "
                    "aud, and customer_id for a customer.",
                }
            },
        },
    }


def _operation(
    builder: SchemaBuilder, method: str, rule: str, operation: Operation, access: Access
) -> dict[str, Any]:
    names = _PARAMETER.findall(rule)
    described: dict[str, Any] = {
        "operationId": "_".join([method.lower(), *re.findall(r"[a-z]+", rule.lower())]),
        "summary": operation.summary,
        "description": access.sentence(),
        "tags": [operation.tag],
        "security": [] if access.public else [{BEARER: []}],
        "x-roles": ["public"] if access.public else list(access.roles),
    }
    if access.own:
        described["x-own-data-only"] = list(access.own)
    if names:
        described["parameters"] = [_parameter(name) for name in names]
    if operation.body is not None:
        hidden = {*names, *operation.server_sets}
        named = operation.body.__name__ + ("Body" if hidden else "")
        schema = builder.ref(builder.component(operation.body, name=named, exclude=hidden))
        described["requestBody"] = {"required": True, "content": {JSON: {"schema": schema}}}
    described["responses"] = _responses(builder, operation, access, has_path=bool(names))
    return described


def _parameter(name: str) -> dict[str, Any]:
    rule = _PATH_RULES.get(name)
    schema: JsonSchema = {"type": "string", **(rule.json_schema() if rule else {})}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _responses(
    builder: SchemaBuilder, operation: Operation, access: Access, *, has_path: bool
) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": operation.summary,
        "headers": _headers("X-Request-ID", *operation.headers),
    }
    if operation.status != 204:
        answer = operation.answer
        success["content"] = {
            media: {"schema": builder.schema(answer) if answer else _content_schema(media)}
            for media in operation.media_types
        }
    responses: dict[str, Any] = {str(operation.status): success}
    codes = set() if access.public else {401, 403}
    codes |= {404} if has_path else set()
    codes |= {400, 413, 415, 422} if operation.body else set()
    codes |= {409} if operation.command else set()
    codes |= {503} if operation.database else set()
    for code in sorted(codes):
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    if operation.unavailable is not None:
        responses["503"] = {
            "description": "A dependency is down: its part says unavailable.",
            "headers": _headers("X-Request-ID"),
            "content": {JSON: {"schema": builder.schema(operation.unavailable)}},
        }
    return responses


def _content_schema(media: str) -> JsonSchema:
    """What a document or a page file is, when no shape describes it."""
    if media == JSON:
        return {"type": "object"}
    if media.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "contentMediaType": media}


def _headers(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _error(status: int) -> dict[str, Any]:
    names = ["X-Request-ID"] + ([_ERROR_HEADERS[status]] if status in _ERROR_HEADERS else [])
    return {
        "description": ERRORS[status],
        "headers": _headers(*names),
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
