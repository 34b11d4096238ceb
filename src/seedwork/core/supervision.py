"""Keeping long-running workers (the command listeners) alive: restart with backoff, or give up.

A worker is a function ``run(stop)`` that returns only once ``stop`` is set. When it raises
(or returns early) for whatever reason, it is logged with its traceback and started again,
waiting longer after each failure in a row (a run that lasted ``healthy_after`` seconds
starts the count afresh). After ``give_up_after`` failures in a row the supervisor gives up:
it sets ``failed`` and ``stop`` (the whole process winds down) and its owner exits non-zero.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("seedwork.core.supervision")

Worker = Callable[[threading.Event], None]


class WorkerGaveUp(RuntimeError):
    """A supervised worker kept failing: the process should exit with a non-zero status."""


class Supervisor:
    """Runs workers until ``stop`` is set, restarting each one that dies."""

    def __init__(
        self,
        stop: threading.Event,
        *,
        first_wait: float = 0.1,
        max_wait: float = 5.0,
        give_up_after: int = 8,
        healthy_after: float = 60.0,
    ) -> None:
        self.stop = stop
        self.failed = threading.Event()
        self.restarts = 0
        self._first_wait = first_wait
        self._max_wait = max_wait
        self._give_up_after = give_up_after
        self._healthy_after = healthy_after
        self._lock = threading.Lock()

    def start(self, name: str, worker: Worker) -> threading.Thread:
        """Run ``worker`` under supervision in a thread of its own."""
        thread = threading.Thread(target=self.run, args=(name, worker), name=name, daemon=True)
        thread.start()
        return thread

    def run(self, name: str, worker: Worker) -> None:
        """Run ``worker`` under supervision in this thread, until stopped or given up."""
        failures = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                worker(self.stop)
            except KeyboardInterrupt:
                raise
            except BaseException:  # whatever it was, the worker must come back
                log.exception("worker died name=%s", name)
            else:
                if self.stop.is_set():
                    break
                log.error("worker returned before it was stopped name=%s", name)
            if time.monotonic() - started >= self._healthy_after:
                failures = 0
            failures += 1
            if failures >= self._give_up_after:
                log.critical("worker keeps dying, giving up name=%s failures=%d", name, failures)
                self.failed.set()
                self.stop.set()
                break
            wait = min(self._max_wait, self._first_wait * 2 ** (failures - 1))
            log.warning("restarting worker name=%s failures=%d wait=%.2fs", name, failures, wait)
            with self._lock:
                self.restarts += 1
            self.stop.wait(wait)

    def check(self) -> None:
        """Raise ``WorkerGaveUp`` if a worker could not be kept running."""
        if self.failed.is_set():
            raise WorkerGaveUp("a worker kept dying and could not be restarted (see the log)")
