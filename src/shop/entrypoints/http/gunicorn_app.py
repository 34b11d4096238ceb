"""Serving the API with gunicorn, configured from code.

Metrics across workers: each worker's counters go to files in ``PROMETHEUS_MULTIPROC_DIR``
that a scrape of any worker adds up. Unless the operator set that variable (a directory
shared with ``shop consumer`` and ``shop relay``, say), each server run gets a fresh one,
removed when it stops; it is set before any worker imports ``prometheus_client``. That is why
the imports in functions here are deliberate: the app and the metrics are loaded in each worker,
after the directory is set, never in the master.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from gunicorn.app.base import BaseApplication

from shop.config import Settings
from shop.entrypoints.http.access_log import GunicornLogger


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
        from shop.entrypoints.http.app import create_app

        # A standalone ``shop relay`` publishes this process's events: wake it at each commit.
        return create_app(shop=bootstrap(self._settings, wake_relays=True))


def serve(settings: Settings, *, host: str, port: int, workers: int) -> int:
    """Run gunicorn in the foreground until stopped."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gthread, answering gunicorn's own errors (request line or headers too large) as
        # problem+json.
        "worker_class": "shop.entrypoints.http.gunicorn_worker.ProblemWorker",
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 20,
        "accesslog": "-",
        "logger_class": GunicornLogger,
        "loglevel": settings.log_level.lower(),
        "child_exit": _worker_exited,
    }
    with multiprocess_metrics():
        ShopApplication(settings, options).run()
    return 0


@contextlib.contextmanager
def multiprocess_metrics() -> Iterator[str]:
    """``PROMETHEUS_MULTIPROC_DIR`` set for the workers: the operator's, or a fresh one."""
    from seedwork.observability.metrics import MULTIPROC_DIR

    given = os.environ.get(MULTIPROC_DIR)
    if given:
        yield given
        return
    directory = tempfile.mkdtemp(prefix="shop-metrics-")
    os.environ[MULTIPROC_DIR] = directory
    _refresh_value_class()
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        _refresh_value_class()
        shutil.rmtree(directory, ignore_errors=True)


def _refresh_value_class() -> None:
    # prometheus_client picks where values live when first imported; if this process already
    # imported it, have it pick again (metrics are created in the workers, after this).
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        setattr(values, "ValueClass", values.get_value_class())  # noqa: B010


def _worker_exited(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges no longer count (its counters still do)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
