"""A stop signal never deadlocks the process it stops.

The signal handler runs in the main thread between two bytecodes, possibly while that thread is
inside ``stop.wait()`` and holds the event's own lock; a handler that set the event itself would
wait for that lock forever (seen as ``shop run`` ignoring a SIGTERM that came right after it was
ready). Each case runs in a child process, so a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import signal, threading
    from shop.entrypoints.cli.roles import stop_on_signals

    stop = stop_on_signals()
    # The main thread holds the event's lock, as it does inside stop.wait(), when the signal comes.
    with stop._cond:
        signal.raise_signal(signal.SIG{name})
    assert stop.wait(5), "the signal did not set the stop event"
    print("stopped")
    """
)


def run_child(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD.format(name=name)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.parametrize("name", ["TERM", "INT"])
def test_a_signal_while_the_main_thread_holds_the_stop_events_lock_stops_it(name: str) -> None:
    try:
        done = run_child(name)
    except subprocess.TimeoutExpired:
        raise AssertionError("the signal handler deadlocked on the stop event's lock") from None
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
