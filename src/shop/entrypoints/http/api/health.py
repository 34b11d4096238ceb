"""Health (CONTRACT §2, §5): live while the process serves, ready while its dependencies answer."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from shop.bootstrap import Shop
from shop.entrypoints.http.api.exchange import views

health = Blueprint("health", __name__)


@health.get("/health/live")
def live() -> Response:
    """200 while the process serves at all: nothing else is asked."""
    return jsonify({"status": "ok"})


@health.get("/health/ready")
def ready() -> tuple[Response, int]:
    """200 when the database and Redis answer, else 503 naming the part that does not."""
    status = {"status": "ok", "database": "ok", "redis": "ok"}
    try:
        views().ping()
    except Exception:  # noqa: BLE001 - any failure means unavailable
        status["database"] = "unavailable"
    shop: Shop | None = current_app.extensions.get("shop")
    if shop is not None and shop.redis is not None:
        try:
            shop.redis.ping()
        except Exception:  # noqa: BLE001
            status["redis"] = "unavailable"
    healthy = status["database"] == "ok" and status["redis"] == "ok"
    if not healthy:
        status["status"] = "unavailable"
    return jsonify(status), 200 if healthy else 503


@health.get("/health")
def health_v1() -> tuple[Response, int]:
    """The v1 health answer: the same as ``/health/ready``."""
    return ready()
