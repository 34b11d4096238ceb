"""Transient failures are retried until the command is applied; only the message's own fault is a
dead letter; the inbox, not the exception, says whether a failed-looking command was applied."""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

import attrs
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DatabaseError, DataError, IntegrityError, InterfaceError
from sqlalchemy.exc import OperationalError as SqlOperationalError

from seedwork.core.bus import MessageBus
from seedwork.core.errors import ConcurrencyConflict
from seedwork.core.failures import CORE
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Command, MessageRegistry, new_id
from seedwork.core.model import AggregateRoot
from seedwork.core.retry import RetryPolicy
from seedwork.core.serialization import Serializer
from seedwork.redis.channels import Channels
from seedwork.redis.consumer import CommandConsumer
from seedwork.redis.failures import REDIS
from seedwork.redis.reader import CommandReader
from seedwork.sqlalchemy.failures import DATABASE
from seedwork.testing.fakes import (
    FakeDeadLetters,
    FakeDeadLetterStream,
    FakeInbox,
    FakeRepository,
    FakeUnitOfWork,
)

CHANNELS = Channels("app")
KNOWN = CORE | DATABASE | REDIS  # what the shop composes: every transient failure known
SQL = "INSERT INTO accounts (account_id, balance) VALUES (%(account_id)s, %(balance)s)"
SECRET = "p4ssw0rd-in-a-parameter"


@attrs.frozen(kw_only=True)
class Deposit(Command):
    account_id: str
    amount: int


class Refused(Exception):
    """A business rule refuses the command."""


@attrs.define(slots=False, eq=False)
class Account(AggregateRoot):
    identity_field = "account_id"
    account_id: str
    balance: int = 0


def deposit(command: Deposit, uow: ScriptedUnitOfWork) -> None:
    with uow:
        if command.amount <= 0:
            raise Refused(f"amount: must be positive, got {command.amount}")
        account = uow.accounts.get(command.account_id)
        if account is None:
            account = Account(command.account_id)
            uow.accounts.add(account)
        account.balance += command.amount
        uow.commit()


def refused_connection() -> SqlOperationalError:
    return SqlOperationalError(SQL, {"balance": SECRET}, ConnectionRefusedError("refused"))


TRANSIENT = {
    "database unreachable": refused_connection,
    "connection dropped": lambda: InterfaceError(SQL, {}, psycopg.InterfaceError("closed")),
    "driver error": lambda: psycopg.OperationalError("server closed the connection"),
    "serialization failure": lambda: SqlOperationalError(
        SQL, {}, psycopg.errors.SerializationFailure("could not serialize")
    ),
    "deadlock": lambda: SqlOperationalError(
        SQL, {}, psycopg.errors.DeadlockDetected("deadlock detected")
    ),
    "conflict": lambda: ConcurrencyConflict("another transaction won"),
    "redis unreachable": lambda: RedisConnectionError("Connection refused"),
    "timeout": lambda: TimeoutError("timed out"),
}


class ScriptedUnitOfWork(FakeUnitOfWork):
    """A unit of work whose commits follow a script: fail before, or fail after committing."""

    accounts: FakeRepository

    def __init__(
        self, script: list[tuple[str, Any]], inbox: FakeInbox, accounts: FakeRepository
    ) -> None:
        super().__init__(inbox=inbox)
        self.script = script
        self._accounts = accounts
        self._snapshot: dict[str, int] = {}

    def _begin(self) -> None:
        # Before the inbox check: a block that finds the message handled rolls back too.
        self._snapshot = {a.account_id: a.balance for a in self._accounts}
        super()._begin()

    def _open(self) -> None:
        self.accounts = self.track(self._accounts)

    def rollback(self) -> None:
        """Really discard the change (the plain fake keeps in-memory changes)."""
        super().rollback()
        for account in self._accounts:
            account.balance = self._snapshot.get(account.account_id, 0)

    def commit(self) -> None:
        when, error = self.script.pop(0) if self.script else ("never", None)
        if when == "before":
            self.rollback()
            raise error()
        super().commit()
        if when == "after":
            raise error()  # the commit happened; its answer was lost


@attrs.define
class World:
    consumer: CommandConsumer
    dead_letters: FakeDeadLetterStream
    accounts: FakeRepository
    script: list[tuple[str, Any]]

    def balance(self, account_id: str = "a") -> int:
        account = self.accounts.get(account_id)
        return 0 if account is None else int(account.balance)


def make_world(script: list[tuple[str, Any]] | None = None, *, inbox: bool = True) -> World:
    accounts = FakeRepository()
    processed = FakeInbox()
    steps = script if script is not None else []
    bus = MessageBus(
        command_handlers={Deposit: deposit},
        event_handlers={},
        dependencies=Dependencies(
            factories={"uow": lambda: ScriptedUnitOfWork(steps, processed, accounts)}
        ),
        dead_letters=FakeDeadLetters(),
        retry=RetryPolicy(conflict_attempts=2, initial_wait=0.0001, max_wait=0.0001),
    )
    reader = CommandReader(Serializer(MessageRegistry().add(Deposit)), CHANNELS, ["Deposit"])
    dead_letters = FakeDeadLetterStream()
    consumer = CommandConsumer(
        bus,
        reader,
        dead_letters,
        failures=KNOWN,
        inbox=processed if inbox else None,
        max_backoff=0.0001,
    )
    return World(consumer, dead_letters, accounts, steps)


def message(amount: int = 5, message_id: str | None = None) -> str:
    return json.dumps(
        {
            "message_id": message_id or new_id(),
            "type": "Deposit",
            "payload": {"account_id": "a", "amount": amount},
        }
    )


@pytest.mark.parametrize("kind", sorted(TRANSIENT))
def test_a_transient_failure_many_times_over_is_retried_until_the_command_is_applied(kind):
    world = make_world([("before", TRANSIENT[kind])] * 12)
    outcome = world.consumer.consume(message(), CHANNELS.commands_stream, stream_entry="1-0")
    assert outcome.ok
    assert world.balance() == 5
    assert world.dead_letters.count() == 0
    assert world.consumer.stats.retried >= 1


@pytest.mark.parametrize("kind", sorted(TRANSIENT))
def test_every_kind_of_transient_failure_is_classified_transient(kind):
    assert KNOWN.is_transient(TRANSIENT[kind]())


def test_the_message_own_faults_are_not_transient():
    assert not KNOWN.is_transient(Refused("no"))
    assert not KNOWN.is_transient(DataError(SQL, {}, psycopg.errors.StringDataRightTruncation("x")))
    assert not KNOWN.is_transient(ValueError("bad"))


def test_a_commit_whose_answer_was_lost_is_applied_once_and_never_dead_lettered():
    lost = lambda: DatabaseError("COMMIT", {}, RuntimeError("answer lost"))  # noqa: E731
    world = make_world([("after", lost)])
    outcome = world.consumer.consume(message(), CHANNELS.commands_stream, stream_entry="1-0")
    assert outcome.ok
    assert world.balance() == 5
    assert world.dead_letters.count() == 0


def test_a_commit_followed_by_an_outage_is_applied_once():
    world = make_world([("after", refused_connection), ("before", refused_connection)])
    assert world.consumer.consume(message(), CHANNELS.commands_stream, stream_entry="1-0").ok
    assert world.balance() == 5
    assert world.dead_letters.count() == 0


def stop_soon() -> threading.Event:
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    return stop


def test_stopped_during_an_outage_a_stream_entry_stays_pending_unacknowledged():
    world = make_world([("before", refused_connection)] * 10_000)
    acknowledged: list[bool] = []
    world.consumer.submit(
        message(),
        CHANNELS.commands_stream,
        stream_entry="1-0",
        done=acknowledged.append,
        stop=stop_soon(),
    )
    assert acknowledged == [False]
    assert world.dead_letters.count() == 0
    assert world.balance() == 0


def test_stopped_during_an_outage_a_pubsub_message_is_kept_to_replay_as_unavailable():
    world = make_world([("before", refused_connection)] * 10_000)
    raw = message()
    acknowledged: list[bool] = []
    channel = CHANNELS.command_channel("Deposit")
    world.consumer.submit(raw, channel, done=acknowledged.append, stop=stop_soon())
    [letter] = world.dead_letters.list()
    assert letter.message == raw
    assert letter.error.startswith("Unavailable: OperationalError: the database is unavailable")
    assert SECRET not in letter.error and "INSERT" not in letter.error
    assert acknowledged == [True]


def test_a_business_refusal_is_a_dead_letter_at_once_named_by_its_kind():
    world = make_world()
    outcome = world.consumer.consume(
        message(amount=0), CHANNELS.commands_stream, stream_entry="1-0"
    )
    assert not outcome.ok and not outcome.pending
    [letter] = world.dead_letters.list()
    assert letter.error == "Refused: amount: must be positive, got 0"
    assert world.consumer.stats.retried == 0


DATABASE_REFUSALS = {
    "postgres truncation": (
        DataError(SQL, {"account_id": SECRET}, psycopg.errors.StringDataRightTruncation("long")),
        "DataError: the database refused the command (StringDataRightTruncation, SQLSTATE 22001)",
    ),
    "sqlite not null": (
        IntegrityError(SQL, (SECRET,), sqlite3.IntegrityError("NOT NULL constraint failed: t.sku")),
        "IntegrityError: sku: the database refused the value",
    ),
}


@pytest.mark.parametrize("case", sorted(DATABASE_REFUSALS))
def test_a_database_refusal_names_the_kind_and_never_the_sql_or_its_parameters(case):
    error, expected = DATABASE_REFUSALS[case]

    def refuse(command: Deposit) -> None:
        raise error

    bus = MessageBus(
        command_handlers={Deposit: refuse},
        event_handlers={},
        dependencies=Dependencies(),
        dead_letters=FakeDeadLetters(),
    )
    reader = CommandReader(Serializer(MessageRegistry().add(Deposit)), CHANNELS, ["Deposit"])
    dead_letters = FakeDeadLetterStream()
    CommandConsumer(bus, reader, dead_letters, failures=KNOWN).consume(
        message(), CHANNELS.commands_stream
    )
    [letter] = dead_letters.list()
    assert letter.error.startswith(expected)
    for leaked in ("INSERT", "[SQL", "parameters", SECRET, "%("):
        assert leaked not in letter.error
    assert KNOWN.describe(error) == letter.error


FAILURES = st.sampled_from(
    [("before", TRANSIENT[kind]) for kind in sorted(TRANSIENT)]
    + [("after", refused_connection)]
    + [("after", lambda: DatabaseError("COMMIT", {}, RuntimeError("answer lost")))]
)


@settings(max_examples=60, deadline=None)
@given(script=st.lists(FAILURES, max_size=6), refused=st.booleans(), twice=st.booleans())
def test_a_message_is_applied_exactly_once_or_dead_lettered_never_both(script, refused, twice):
    """Any run of failures, outages and lost answers: a good command is applied exactly once
    and never dead-lettered; a refused one is dead-lettered and never applied."""
    world = make_world(list(script))
    raw = message(amount=0 if refused else 5)
    deliveries = 2 if twice else 1  # a re-delivered entry (the same message id)
    for _ in range(deliveries):
        world.consumer.consume(raw, CHANNELS.commands_stream, stream_entry="1-0")
    if refused:
        assert world.balance() == 0
        assert world.dead_letters.count() == deliveries
    else:
        assert world.balance() == 5
        assert world.dead_letters.count() == 0


def test_a_refusal_of_the_role_is_never_taken_for_an_outage():
    from seedwork.redis.publisher import UNREACHABLE
    from shop.domain.errors import Forbidden

    refused = Forbidden("warehouse", "register customers")
    assert not isinstance(refused, UNREACHABLE)
    assert not KNOWN.is_transient(refused)
