"""application/problem+json answers (RFC 9457)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, json

from seedwork.errors import FieldError

# The largest request body accepted (CONTRACT §2: larger is 413).
MAX_BODY = 1024 * 1024

TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: Iterable[FieldError] | None = None,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": type_,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    response = Response(
        json.dumps(body), status=status, mimetype="application/problem+json", headers=headers
    )
    return response
