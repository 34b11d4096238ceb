"""The tests' one poller: it returns what it waited for, or fails in time saying why."""

from __future__ import annotations

import time

import pytest

from tests.waiting import eventually


def test_returns_the_first_truthy_answer():
    answers = iter([None, 0, "", "ready", "later"])
    assert eventually(lambda: next(answers), every=0) == "ready"


def test_fails_at_the_deadline_with_the_explanation():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="the log says no"):
        eventually(lambda: False, timeout=0.05, explain=lambda: "the log says no")
    assert 0.05 <= time.monotonic() - started < 1


def test_an_ignored_error_means_not_yet():
    calls: list[int] = []

    def refused_twice() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError
        return True

    assert eventually(refused_twice, every=0, ignoring=(ConnectionError,))
    assert len(calls) == 3


def test_any_other_error_ends_the_wait_at_once():
    def died() -> bool:
        raise AssertionError("the process died")

    started = time.monotonic()
    with pytest.raises(AssertionError, match="the process died"):
        eventually(died, timeout=5)
    assert time.monotonic() - started < 1
