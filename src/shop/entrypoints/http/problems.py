"""application/problem+json answers (RFC 9457): the app's, and the HTTP servers' own."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response

from seedwork.core.errors import FieldError

# The largest request body accepted (CONTRACT §2: larger is 413).
MAX_BODY = 1024 * 1024

MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    417: "Expectation Failed",
    422: "Unprocessable Content",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


def title(status: int) -> str:
    """The reason phrase of a status."""
    return TITLES.get(status, "Error")


def problem_document(
    status: int,
    detail: str,
    *,
    errors: Iterable[FieldError] | None = None,
    type_: str = "about:blank",
) -> bytes:
    """The problem+json body, as bytes (also for the HTTP servers' own answers)."""
    body: dict[str, Any] = {"type": type_, "title": title(status), "status": status}
    body["detail"] = detail
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def problem(
    status: int,
    detail: str,
    *,
    errors: Iterable[FieldError] | None = None,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    document = problem_document(status, detail, errors=errors, type_=type_)
    return Response(document, status=status, mimetype=MEDIA_TYPE, headers=headers)
