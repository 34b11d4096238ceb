"""Request to command, and the answers: what every endpoint shares.

Bodies are read strictly (a JSON object without duplicated keys, ``application/json``) and
structured into commands by the same strict structuring as Redis messages, whose errors name
every bad or unknown field (``price.amount``, ``price.colour``); path ids that cannot exist
answer 404 before any command is built.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, abort, current_app, jsonify, request

from seedwork.core.bus import MessageBus
from seedwork.core.errors import FieldError, InvalidPayload, MessageError
from seedwork.core.messages import Command
from seedwork.core.serialization import parse_json
from seedwork.core.structuring import structure
from shop.bootstrap import message_converter
from shop.domain import text
from shop.domain.errors import InvalidValue
from shop.entrypoints.http.problems import MAX_BODY
from shop.views.queries import ReadModels, View

C = TypeVar("C", bound=Command)

NOT_A_BODY_FIELD = "is not a body field: the path or the server sets it"


def bus() -> MessageBus:
    """The application's message bus."""
    found: MessageBus = current_app.extensions["bus"]
    return found


def views() -> ReadModels:
    """The application's read models."""
    found: ReadModels = current_app.extensions["views"]
    return found


def path_id(value: str, rule: text.TextRule = text.ID) -> str:
    """A path id; one that no resource can have (``rule`` refuses it) is simply not found."""
    try:
        return rule.check("id", value)
    except InvalidValue:
        abort(404, description="no such resource")


def _body() -> bytes:
    """The raw body, at most ``MAX_BODY`` bytes, else 413.

    A body without ``Content-Length`` (chunked) is read up to one byte past the limit: Werkzeug
    would otherwise cut it silently at ``MAX_CONTENT_LENGTH`` and the truncated body would pass.
    """
    request.max_content_length = MAX_BODY + 1
    stream = request.stream
    # Each read asks for no more than can come: a read allocates a buffer of the size asked.
    length = request.content_length
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY:
        wanted = MAX_BODY + 1 - size
        if length is not None:  # the stream ends there: one read, then one of a byte to see it
            wanted = min(wanted, max(length - size, 1))
        chunk = stream.read(wanted)
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
    return _json_object(_body())


def no_body() -> dict[str, Any]:
    """The body of an endpoint that takes none: nothing, or ``{}``; anything else is refused
    as it would be elsewhere (415 not JSON, 400 unreadable, 422 naming its fields)."""
    raw = _body()
    if not raw:
        return {}
    if request.mimetype != "application/json":
        abort(415, description="this endpoint takes no body; if any, application/json")
    return _json_object(raw)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = parse_json(raw)
    except MessageError as error:
        abort(400, description=f"the body is {error}")
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body


def command(cls: type[C], body: dict[str, Any], **given: Any) -> C:
    """The command from body fields and the ids ``given`` by the path or the server.

    ``InvalidPayload`` names every bad or unknown field, and a body field that tries to set
    one of the ``given`` ids.
    """
    taken = [FieldError(name, NOT_A_BODY_FIELD) for name in given if name in body]
    try:
        built = structure(message_converter(), cls, {**body, **given})
    except InvalidPayload as error:
        raise InvalidPayload(taken + error.errors) from None
    if taken:
        raise InvalidPayload(taken)
    return built


def answer(view: View | None, status: int = 200, **headers: str) -> Response:
    """A JSON answer; a missing view (gone meanwhile) is not found."""
    if view is None:
        abort(404, description="no such resource")
    response = jsonify(view)
    response.status_code = status
    response.headers.update(headers)
    return response
