"""The bus's own cost per message, beside the same work done by direct function calls.

A command with two event handlers goes through bus + injection + fake unit of work; the floor
calls the same handlers on the same fakes by hand.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

import attrs

from seedwork.core.bus import MessageBus
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Command, Event
from seedwork.core.model import AggregateRoot
from seedwork.observability.metrics import Metrics
from seedwork.testing.fakes import FakeDeadLetters, FakeRepository, FakeUnitOfWork

COMMANDS_PER_ROUND = 2_000
ROUNDS = 15


@attrs.frozen(kw_only=True)
class Deposit(Command):
    account_id: str
    amount: int


@attrs.frozen(kw_only=True)
class Deposited(Event):
    account_id: str
    balance: int


@attrs.define(slots=False, eq=False)
class Account(AggregateRoot):
    identity_field = "account_id"
    account_id: str
    balance: int = 0

    def deposit(self, amount: int) -> None:
        self.balance += amount
        self.record(Deposited(account_id=self.account_id, balance=self.balance))


class AccountsUnitOfWork(FakeUnitOfWork):
    """The fake unit of work over one repository of accounts."""

    accounts: FakeRepository

    def __init__(self, accounts: FakeRepository) -> None:
        super().__init__()
        self._accounts = accounts

    def _open(self) -> None:
        self.accounts = self.track(self._accounts)


def deposit(command: Deposit, uow: AccountsUnitOfWork) -> int:
    with uow:
        account = uow.accounts.get(command.account_id)
        account.deposit(command.amount)
        uow.commit()
        return int(account.balance)


def count_deposit(event: Deposited, tally: dict[str, int]) -> None:
    tally["count"] += 1


def remember_balance(event: Deposited, tally: dict[str, int]) -> None:
    tally["balance"] = event.balance


def _world() -> tuple[FakeRepository, dict[str, int]]:
    return FakeRepository([Account("a")]), {"count": 0, "balance": 0}


def through_the_bus(n: int, metrics: Metrics | None = None) -> float:
    """Seconds per command through bus + injection + fake unit of work (counted by ``metrics``)."""
    repository, tally = _world()
    bus = MessageBus(
        command_handlers={Deposit: deposit},
        event_handlers={Deposited: [count_deposit, remember_balance]},
        dependencies=Dependencies(
            values={"tally": tally},
            factories={"uow": lambda: AccountsUnitOfWork(repository)},
        ),
        dead_letters=FakeDeadLetters(),
        metrics=metrics,
    )
    commands = [Deposit(account_id="a", amount=1) for _ in range(n)]
    started = time.perf_counter()
    for command in commands:
        bus.handle(command)
    elapsed = time.perf_counter() - started
    assert tally["count"] == n and tally["balance"] == n
    return elapsed / n


def direct_calls(n: int) -> float:
    """Seconds per command when the same handlers are called by hand."""
    repository, tally = _world()
    commands = [Deposit(account_id="a", amount=1) for _ in range(n)]
    started = time.perf_counter()
    for command in commands:
        uow = AccountsUnitOfWork(repository)
        deposit(command, uow)
        for envelope in uow.collect_new_events():
            event: Any = envelope.message
            count_deposit(event, tally)
            remember_balance(event, tally)
    elapsed = time.perf_counter() - started
    assert tally["count"] == n and tally["balance"] == n
    return elapsed / n


def main() -> dict[str, float]:
    """Alternate the two paths round by round, report medians and the overhead; return the
    overhead per message and the bus/direct ratio."""
    metrics = Metrics(namespace="bench")
    through_the_bus(500)
    through_the_bus(500, metrics)
    direct_calls(500)
    bus_times: list[float] = []
    counted_times: list[float] = []
    direct_times: list[float] = []
    gc.collect()
    for _ in range(ROUNDS):
        bus_times.append(through_the_bus(COMMANDS_PER_ROUND))
        counted_times.append(through_the_bus(COMMANDS_PER_ROUND, metrics))
        direct_times.append(direct_calls(COMMANDS_PER_ROUND))
    bus = statistics.median(bus_times) * 1e6
    counted = statistics.median(counted_times) * 1e6
    direct = statistics.median(direct_times) * 1e6
    # One command and the one event it raises: two messages through the bus per command.
    per_message = (bus - direct) / 2
    print(f"   bus path     {bus:8.2f} µs per command (command + 1 event, 2 event handlers)")
    print(f"   direct calls {direct:8.2f} µs per command")
    print(f"   ratio        {bus / direct:8.2f} x")
    print(f"   overhead     {per_message:8.2f} µs per message (goal <= 3 µs)")
    metered = (counted - bus) / 2
    print(f"   with metrics {counted:8.2f} µs per command ({metered:+.2f} µs per message)")
    return {"overhead µs per message": per_message, "bus/direct ratio": bus / direct}


if __name__ == "__main__":
    main()
