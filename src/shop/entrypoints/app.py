"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from shop.bootstrap import Shop, bootstrap
from shop.config import Settings
from shop.entrypoints.problems import problem

log = logging.getLogger("shop.api")

MAX_BODY = 1024 * 1024


def create_app(settings: Settings | None = None, shop: Shop | None = None) -> Flask:
    """Build the API around a wired shop (built from settings when not given)."""
    shop = shop or bootstrap(settings)
    app = Flask("shop")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["shop"] = shop
    app.extensions["bus"] = shop.bus
    app.add_url_rule("/health", "health", _health)
    _register_blueprints(app)
    _register_error_handlers(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from shop.entrypoints import api

    api.register(app)


def _health() -> tuple[Response, int]:
    from flask import current_app

    shop: Shop = current_app.extensions["shop"]
    status = {"status": "ok", "database": "ok", "redis": "ok"}
    try:
        with shop.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means unavailable
        status["database"] = "unavailable"
    if shop.redis is not None:
        try:
            shop.redis.ping()
        except Exception:  # noqa: BLE001
            status["redis"] = "unavailable"
    healthy = status["database"] == "ok" and status["redis"] == "ok"
    if not healthy:
        status["status"] = "unavailable"
    return jsonify(status), 200 if healthy else 503


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        detail = error.description or TITLE_FALLBACK
        if status == 413:
            detail = f"the request body is larger than {MAX_BODY} bytes"
        return problem(status, detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database_down(error: Any) -> Response:
        log.warning("database unavailable: %s", error)
        return problem(
            503, "the database is unavailable; try again shortly", headers={"Retry-After": "5"}
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unexpected error")
        return problem(500, "an unexpected error happened; it has been logged")


TITLE_FALLBACK = "request failed"
