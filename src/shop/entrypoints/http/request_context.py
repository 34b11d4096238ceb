"""Every HTTP request gets ids: ``X-Request-ID`` on its answer, both on its log lines.

A WSGI middleware, so that every answer the application gives carries the header, errors
and 404s included, whichever server runs it. The client's ``X-Request-ID`` is kept when it
is 1-200 characters of ``[A-Za-z0-9._-]``; otherwise a new UUID is made. A request also gets
a new ``correlation_id``, which the commands it sends share (``seedwork.core.context``). Both are
left in the WSGI environ for the servers' access lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from seedwork.core import context
from seedwork.core.messages import new_id

HEADER = "X-Request-ID"
_LOWER = HEADER.lower()
REQUEST_ID = "shop.request_id"
CORRELATION_ID = "shop.correlation_id"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,200}")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def request_id(offered: str | None) -> str:
    """The client's request id when it is valid, else a new one."""
    if offered and VALID_REQUEST_ID.fullmatch(offered):
        return offered
    return new_id()


class RequestContext:
    """WSGI middleware binding ``request_id`` and ``correlation_id`` for a request."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Handle the request with its ids bound; its answer carries ``X-Request-ID``."""
        rid = environ[REQUEST_ID] = request_id(environ.get("HTTP_X_REQUEST_ID"))
        cid = environ[CORRELATION_ID] = new_id()

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != _LOWER]
            kept.append((HEADER, rid))
            return start_response(status, kept, exc_info)

        token = context.push(request_id=rid, correlation_id=cid)
        try:
            return self.app(environ, start)
        finally:
            context.pop(token)


def access_ids(environ: dict[str, Any]) -> dict[str, str]:
    """The ids of a request, for its access line (empty when the app never saw it)."""
    found = {"request_id": environ.get(REQUEST_ID), "correlation_id": environ.get(CORRELATION_ID)}
    return {key: value for key, value in found.items() if value}
