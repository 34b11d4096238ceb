"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from seedwork.core.bus import MessageBus
from shop.adapters.tokens import TokenVerifier
from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.http.api import door
from shop.entrypoints.http.problems import MAX_BODY, problem
from shop.entrypoints.http.request_context import RequestContext
from shop.views.queries import ReadModels, SqlReadModels

log = logging.getLogger("shop.api")

__all__ = ["MAX_BODY", "create_app"]


def create_app(
    settings: Settings | None = None,
    bus: MessageBus | None = None,
    *,
    shop: Shop | None = None,
    views: ReadModels | None = None,
    tokens: TokenVerifier | None = None,
) -> Flask:
    """Build the API around a bus and the read models (wired from settings when not given).

    ``shop`` hands in a whole wired application (``shop run``); a bus and read models may be
    given alone, e.g. fakes in unit tests. ``tokens`` checks the bearer tokens (by default,
    the configured keys: CONTRACT §4).
    """
    if shop is None and (bus is None or views is None):
        shop = bootstrap(settings)
    if bus is None:
        assert shop is not None
        bus = shop.bus
    if views is None:
        assert shop is not None
        views = SqlReadModels(shop.engine)
    app = ShopFlask("shop", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["bus"] = bus
    app.extensions["views"] = views
    if shop is not None:
        app.extensions["shop"] = shop
    configured = shop.settings if shop is not None else settings or Settings.from_env()
    if tokens is None:
        tokens = TokenVerifier.from_settings(configured.auth)
    door.install(app, tokens)
    app.extensions["channel_prefix"] = configured.channel_prefix  # for /asyncapi.json
    app.before_request(_refuse_large_bodies)
    _register_blueprints(app)
    _register_error_handlers(app)
    _observe(app, shop)
    app.wsgi_app = RequestContext(app.wsgi_app)  # type: ignore[method-assign]
    return app


class ShopFlask(Flask):
    """Flask, answering ``OPTIONS`` with 204 and ``Allow`` (not an empty text/html 200)."""

    def make_default_options_response(self) -> Response:
        """The answer to ``OPTIONS`` on a route: its methods in ``Allow``, no body."""
        allow = super().make_default_options_response().headers["Allow"]
        response = Response(status=204, headers={"Allow": allow})
        del response.headers["Content-Type"]
        return response


def _register_blueprints(app: Flask) -> None:
    from shop.entrypoints.http import api

    api.register(app)


def _observe(app: Flask, shop: Shop | None) -> None:
    from seedwork.observability.metrics import process_metrics
    from shop.entrypoints.http.metrics import register_metrics
    from shop.entrypoints.http.observability import observe_requests

    metrics = shop.metrics if shop is not None else process_metrics()
    app.extensions["metrics"] = metrics
    register_metrics(app)
    observe_requests(app, metrics, shop.tracing if shop is not None else None)


def _refuse_large_bodies() -> Response | None:
    length = request.content_length
    if length is not None and length > MAX_BODY:
        return problem(413, f"the request body is larger than {MAX_BODY} bytes")
    return None


def _register_error_handlers(app: Flask) -> None:
    from shop.entrypoints.http.api.errors import register_error_handlers

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        detail = error.description or "request failed"
        if status == 413:
            detail = f"the request body is larger than {MAX_BODY} bytes"
        # Keep what the error says in headers (a 405's Allow), but answer problem+json.
        headers = {
            name: value for name, value in error.get_headers() if name.lower() != "content-type"
        }
        return problem(status, detail, headers=headers)

    register_error_handlers(app)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unexpected error")
        return problem(500, "an unexpected error happened; it has been logged")
