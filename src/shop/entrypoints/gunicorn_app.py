"""Serving the API with gunicorn, configured from code."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from shop.config import Settings
from shop.entrypoints.access_log import GunicornLogger


class ShopApplication(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that builds the Flask app in each worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from shop.bootstrap import bootstrap
        from shop.entrypoints.app import create_app

        # A standalone ``shop relay`` publishes this process's events: wake it at each commit.
        return create_app(shop=bootstrap(self._settings, wake_relays=True))


def serve(settings: Settings, *, host: str, port: int, workers: int) -> int:
    """Run gunicorn in the foreground until stopped."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread, answering gunicorn's own errors (request line or headers too large) as
        # problem+json.
        "worker_class": "shop.entrypoints.gunicorn_worker.ProblemWorker",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": "-",
        "logger_class": GunicornLogger,
        "loglevel": settings.log_level.lower(),
    }
    ShopApplication(settings, options).run()
    return 0
