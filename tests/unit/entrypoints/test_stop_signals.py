"""A stop signal always stops the process it is sent to, and never deadlocks it.

Python runs a signal's handler in the main thread, between two bytecodes. ``shop run``'s main
thread waits for the stop event without a timeout, so a signal that the main thread did not act
on before it blocked was never acted on: its low-level handler ran in another thread, or in the
main thread just before it entered the wait (``shop run`` ignored a SIGTERM that came right after
its ready line, about one run in five). A handler that set the event itself could wait forever
for the event's lock, which the main thread may hold inside ``stop.wait()``.
Each case runs in a child process, so a hang fails the test instead of hanging it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PREAMBLE = """
import signal, threading
from shop.entrypoints.cli.roles import stop_on_signals

stop = stop_on_signals()
"""

#: The main thread holds the event's lock, as it does inside stop.wait(), when the signal comes.
WHILE_HOLDING_THE_EVENTS_LOCK = """
with stop._cond:
    signal.raise_signal(signal.SIG{name})
assert stop.wait(5), "the signal did not set the stop event"
"""

#: The signal lands on another thread while the main thread waits for the stop, as in shop run:
#: Python's low-level handler runs there and only marks the signal for the main thread, blocked.
ON_ANOTHER_THREAD_WHILE_WAITING = """
def deliver():
    signal.pthread_kill(threading.get_ident(), signal.SIG{name})

threading.Timer(0.2, deliver).start()
stop.wait()
"""

CASES = {
    "holding the event's lock": WHILE_HOLDING_THE_EVENTS_LOCK,
    "on another thread while waiting": ON_ANOTHER_THREAD_WHILE_WAITING,
}


def run_child(body: str, name: str) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(PREAMBLE) + body.format(name=name) + 'print("stopped")\n'
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=10, check=False
    )


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", ["TERM", "INT"])
def test_a_signal_sets_the_stop_event(case: str, name: str) -> None:
    try:
        done = run_child(CASES[case], name)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"SIG{name} {case}: the process never stopped") from None
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"


def test_a_second_signal_raises_keyboard_interrupt_in_the_main_thread() -> None:
    body = """
    import time
    signal.raise_signal(signal.SIGTERM)
    assert stop.wait(5), "the first signal did not set the stop event"
    try:
        signal.raise_signal(signal.SIGTERM)
        time.sleep(5)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the second signal did not interrupt the main thread")
    """
    done = run_child(textwrap.dedent(body), "TERM")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped"
