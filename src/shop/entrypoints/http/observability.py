"""Every HTTP request counted and timed by route and status, and traced when traces are on.

A WSGI middleware inside ``RequestContext`` (so the request's ``correlation_id`` is bound):
it sees every answer, errors and 404s included. The route is the URL rule Flask matched
(``/orders/<order_id>``), ``unmatched`` when none did: a label never holds a raw path. With
traces on, the request's span continues a client's ``traceparent`` header, and the commands
the request sends are its children.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from opentelemetry.trace import SpanKind, Status, StatusCode

from seedwork.core import context
from seedwork.observability.metrics import Metrics
from seedwork.observability.traceparent import valid_traceparent
from seedwork.observability.tracing import Tracing

ROUTE = "shop.route"
UNMATCHED = "unmatched"
#: Methods counted by name; any other a client sends is ``other`` (a label set stays bounded).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def observe_requests(app: Flask, metrics: Metrics, tracing: Tracing | None) -> None:
    """Count, time (and trace) every request the app answers."""

    def _note_route() -> None:
        rule = request.url_rule
        request.environ[ROUTE] = rule.rule if rule is not None else UNMATCHED

    # First of the hooks: one that answers (the door's 401) skips those after it.
    app.before_request_funcs.setdefault(None, []).insert(0, _note_route)

    app.wsgi_app = HttpObserver(app.wsgi_app, metrics, tracing)  # type: ignore[method-assign]


class HttpObserver:
    """WSGI middleware: metrics of each answer, and a server span around it."""

    def __init__(self, app: WsgiApp, metrics: Metrics, tracing: Tracing | None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer the request; count it by method, route and status."""
        started = time.perf_counter()
        status = [500]

        def start(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(line.split(" ", 1)[0])
            return start_response(line, headers, exc_info)

        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method not in METHODS:
            method = "other"
        try:
            if self.tracing is None:
                return self.app(environ, start)
            return self._traced(environ, start, method, status)
        finally:
            route = environ.get(ROUTE, UNMATCHED)
            self.metrics.http(method, route, status[0], time.perf_counter() - started)

    def _traced(
        self,
        environ: dict[str, Any],
        start: Callable[..., Any],
        method: str,
        status: list[int],
    ) -> Iterable[bytes]:
        assert self.tracing is not None
        attributes = {
            "http.request.method": method,
            "url.path": str(environ.get("PATH_INFO", "")),
            "shop.correlation_id": context.current().get("correlation_id", ""),
        }
        parent = valid_traceparent(environ.get("HTTP_TRACEPARENT"))
        with self.tracing.span(
            method, parent=parent, kind=SpanKind.SERVER, attributes=attributes
        ) as span:
            answer = self.app(environ, start)
            route = environ.get(ROUTE, UNMATCHED)
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status[0])
            if status[0] >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return answer
