"""Supervised workers: restarted whenever they die, until they keep dying; then the process ends."""

from __future__ import annotations

import threading

import pytest

from seedwork.core.supervision import Supervisor, WorkerGaveUp


class Flaky:
    """A worker that dies ``dies`` times (each its own way), then works until stopped."""

    def __init__(self, dies: int) -> None:
        self.dies = dies
        self.runs = 0

    def __call__(self, stop: threading.Event) -> None:
        self.runs += 1
        if self.runs <= self.dies:
            failure = [
                RuntimeError("boom"),
                SystemExit(3),
                UnicodeEncodeError("utf-8", "", 0, 1, "x"),
            ]
            raise failure[self.runs % 3]
        stop.wait()


def test_a_worker_killed_by_unexpected_exceptions_is_restarted_and_carries_on():
    stop = threading.Event()
    supervisor = Supervisor(stop, first_wait=0.001, give_up_after=5)
    worker = Flaky(dies=3)
    thread = supervisor.start("flaky", worker)
    while worker.runs < 4:
        assert thread.is_alive()
        stop.wait(0.01)
    assert supervisor.restarts == 3 and not supervisor.failed.is_set()
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and worker.runs == 4
    supervisor.check()  # nothing to say: it was stopped, it did not give up


def test_a_worker_that_returns_before_it_is_stopped_is_started_again():
    stop = threading.Event()
    supervisor = Supervisor(stop, first_wait=0.001, give_up_after=5)
    runs: list[int] = []

    def returns_twice(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) > 2:
            stop.wait()

    thread = supervisor.start("quitter", returns_twice)
    while len(runs) < 3:
        stop.wait(0.01)
    stop.set()
    thread.join(5)
    assert supervisor.restarts == 2


def test_a_worker_that_keeps_dying_stops_everything_and_says_so():
    stop = threading.Event()
    supervisor = Supervisor(stop, first_wait=0.001, max_wait=0.01, give_up_after=4)
    worker = Flaky(dies=1000)
    supervisor.run("hopeless", worker)  # returns once it gave up
    assert worker.runs == 4 and supervisor.failed.is_set() and stop.is_set()
    with pytest.raises(WorkerGaveUp):
        supervisor.check()
