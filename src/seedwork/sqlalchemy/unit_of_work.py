"""The SQLAlchemy unit of work: a session per block; events go to the outbox in the same commit."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Table, TextClause, bindparam, insert, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from seedwork.core.errors import AlreadyHandled, ConcurrencyConflict
from seedwork.core.messages import Envelope, Event, utcnow
from seedwork.core.serialization import Serializer
from seedwork.core.uow import AbstractUnitOfWork
from seedwork.sqlalchemy.commit_listener import wake_relays
from seedwork.sqlalchemy.tables import SeedworkTables

RepositoryFactory = Callable[[Session], Any]
Projector = Callable[[Session, Sequence[Envelope]], None]
"""Applies a commit's events, with their log positions, to the read models (inline)."""

# Dialects with INSERT ... ON CONFLICT DO NOTHING; others claim the inbox row in a savepoint.
_UPSERT_DIALECTS = frozenset({"postgresql", "sqlite"})

# PostgreSQL SQLSTATEs that mean "another transaction won; try again".
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """One session and transaction per ``with`` block.

    Repositories are built per block from ``repositories`` (name → factory taking the
    session) and reached as attributes: ``uow.orders``.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        tables: SeedworkTables,
        serializer: Serializer,
        repositories: Mapping[str, RepositoryFactory],
        *,
        project: Projector | None = None,
        wake_relays: bool = False,
    ) -> None:
        """``project``: the inline projections, run in the transaction that records the events,
        after the outbox rows are written (so each event has its log position).

        ``wake_relays``: NOTIFY relays in other processes of each commit's events (on
        PostgreSQL; it costs concurrent commits some throughput, so only processes beside a
        standalone relay ask for it): route 3 of ``seedwork.sqlalchemy.relay``."""
        super().__init__()
        self._project = project
        self._wake_relays = wake_relays
        self._session_factory = session_factory
        self._tables = tables
        self._serializer = serializer
        self._repository_factories = repositories
        self._repositories: dict[str, Any] = {}
        self.session: Session | None = None
        self._relaxed = False

    def __getattr__(self, name: str) -> Any:
        repositories = self.__dict__.get("_repositories")
        if repositories and name in repositories:
            return repositories[name]
        raise AttributeError(name)

    def _begin(self) -> None:
        self.session = session = self._session_factory()
        self._repositories = {
            name: self.track(factory(session))
            for name, factory in self._repository_factories.items()
        }
        self._relaxed = False
        if self.handling is not None and self.handling.dedupe:
            self._claim(session)

    def _claim(self, session: Session) -> None:
        """Write the inbox row first: one statement decides whether this message is new.

        A concurrent duplicate waits on the row until this transaction ends, then finds it.
        """
        assert self.handling is not None
        row = {
            "message_id": self.handling.envelope.message_id,
            "handler": self.handling.handler,
            "processed_at": utcnow(),
        }
        inbox = self._tables.inbox
        dialect = session.get_bind().dialect.name
        if dialect in _UPSERT_DIALECTS:
            # An event's handler may commit without waiting for the WAL flush (see _commit);
            # PostgreSQL is told so in the claim's own round trip.
            relax = dialect == "postgresql" and isinstance(self.handling.envelope.message, Event)
            statement = _claim_statement(dialect, inbox, relax)
            if session.execute(statement, row).first() is None:
                raise AlreadyHandled(self.handling.envelope.message_id)
            self._relaxed = relax
            return
        try:
            with session.begin_nested():
                session.execute(insert(inbox), row)
        except IntegrityError:
            raise AlreadyHandled(self.handling.envelope.message_id) from None

    def _commit(self, envelopes: list[Envelope]) -> None:
        """Flush, write the events to the outbox, apply them to the read models, commit.

        The read models change in the same transaction as what they show, so a read never
        lags a committed write, and a projection needs no transaction of its own.

        On PostgreSQL, an event handler's transaction that writes no event (a reaction that
        found nothing to do) commits without waiting for its WAL flush. That is safe: a
        database crash can lose it only whole, inbox row included, and the recovery sweep
        then dispatches the durable event to that handler again; any durable commit that saw
        its effects flushed them too, since the WAL is flushed in order. Every event is
        written by a durable commit (the outbox statement itself restores
        ``synchronous_commit``), so the relay never publishes one that a crash could take
        back. See docs/adr/0007-event-handlers-commit-without-waiting.md.
        """
        session = self.session
        assert session is not None, "commit outside a with block"
        try:
            session.flush()
            if envelopes:
                envelopes[:] = self._write_outbox(session, envelopes)
                if self._project is not None:
                    self._project(session, envelopes)
            session.commit()
        except StaleDataError as error:
            session.rollback()
            raise ConcurrencyConflict(str(error)) from None
        except (IntegrityError, OperationalError) as error:
            session.rollback()
            if _is_retryable(error):
                raise ConcurrencyConflict(str(error.orig)) from None
            raise

    def _write_outbox(self, session: Session, envelopes: list[Envelope]) -> list[Envelope]:
        """Insert the envelopes (in chunks: drivers cap a statement's parameters); returns them
        with their log positions."""
        postgresql = session.get_bind().dialect.name == "postgresql"
        notify = self._wake_relays and postgresql
        # Events go out to the world: a relaxed commit (see _claim) must be durable after all.
        durable = self._relaxed and postgresql
        positions: dict[str, int] = {}
        for start in range(0, len(envelopes), _OUTBOX_CHUNK):
            chunk = envelopes[start : start + _OUTBOX_CHUNK]
            first = not start
            statement = _outbox_statement(
                self._tables.outbox, len(chunk), notify and first, durable and first
            )
            parameters = {
                f"{name}_{n}": value
                for n, envelope in enumerate(chunk)
                for name, value in self._outbox_row(envelope).items()
            }
            written = session.connection().execute(statement, parameters)
            positions.update((message_id, id_) for id_, message_id in written.tuples())
        return [attrs.evolve(e, log_position=positions.get(e.message_id)) for e in envelopes]

    def _outbox_row(self, envelope: Envelope) -> dict[str, Any]:
        data = self._serializer.envelope_dict(envelope)
        return {
            "message_id": envelope.message_id,
            "type": data["type"],
            "version": data["version"],
            "occurred_at": envelope.occurred_at,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "actor": envelope.actor,
            "envelope": self._serializer.dumps(envelope),
        }

    def _translate(self, error: BaseException) -> BaseException | None:
        if isinstance(error, StaleDataError):
            return ConcurrencyConflict(str(error))
        if isinstance(error, IntegrityError | OperationalError) and _is_retryable(error):
            return ConcurrencyConflict(str(error.orig))
        return None

    def rollback(self) -> None:
        """Discard the change and the pending events."""
        if self.session is not None:
            self.session.rollback()
        for aggregate in self._seen:
            aggregate.collect_events()

    def _end(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        self._repositories = {}


@functools.cache
def _claim_statement(dialect: str, inbox: Table, relax: bool = False) -> TextClause:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING, as text: SQLAlchemy cannot cache the
    compiled form of its ON CONFLICT construct, and this runs for every event handled.

    With ``relax`` (PostgreSQL), the same statement turns ``synchronous_commit`` off for
    this transaction only.
    """
    name = inbox.name if inbox.schema is None else f"{inbox.schema}.{inbox.name}"
    source = "VALUES (:message_id, :handler, :processed_at)"
    if relax:
        source = (
            "SELECT :message_id, :handler, :processed_at FROM"
            " (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
        )
    return text(
        f"INSERT INTO {name} (message_id, handler, processed_at) {source}"
        " ON CONFLICT DO NOTHING RETURNING message_id"
    ).bindparams(bindparam("processed_at", type_=inbox.c.processed_at.type))


_OUTBOX_COLUMNS = (
    "message_id", "type", "version", "occurred_at", "correlation_id", "causation_id", "actor",
    "envelope",
)  # fmt: skip


_OUTBOX_CHUNK = 500  # rows per INSERT: 8 parameters each, well under every driver's cap


@functools.lru_cache(maxsize=128)
def _outbox_statement(outbox: Table, count: int, notify: bool, durable: bool) -> TextClause:
    """One multi-row INSERT ... RETURNING for ``count`` events, as text built once per count:
    the ORM's own bulk insert costs more Python than the round trip it saves.

    With ``notify`` (PostgreSQL) the same statement NOTIFYs relays in other processes; the
    notification is delivered at commit, and not at all if the transaction rolls back. With
    ``durable`` (PostgreSQL) it sets ``synchronous_commit`` back to the session's own value
    for this transaction, in the same round trip.
    """
    name = outbox.name if outbox.schema is None else f"{outbox.schema}.{outbox.name}"
    rows = ", ".join(
        "(" + ", ".join(f":{column}_{n}" for column in _OUTBOX_COLUMNS) + ")" for n in range(count)
    )
    insert_rows = (
        f"INSERT INTO {name} ({', '.join(_OUTBOX_COLUMNS)}) VALUES {rows} RETURNING id, message_id"
    )
    extras = []
    if notify:
        extras.append(f"(SELECT {wake_relays(outbox)}) AS woken")
    if durable:
        extras.append(
            "(SELECT set_config('synchronous_commit', reset_val, true)"
            " FROM pg_settings WHERE name = 'synchronous_commit') AS durable"
        )
    if extras:
        insert_rows = (
            f"WITH written AS ({insert_rows}) SELECT written.id, written.message_id"
            f" FROM written, {', '.join(extras)}"
        )
    statement = text(insert_rows)
    occurred_at = outbox.c.occurred_at.type
    return statement.bindparams(
        *(bindparam(f"occurred_at_{n}", type_=occurred_at) for n in range(count))
    )


def _is_retryable(error: Exception) -> bool:
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _RETRYABLE_SQLSTATES
    text = str(orig or error).lower()
    # SQLite: a concurrent insert of the same key, or a busy database.
    return "unique constraint failed" in text or "database is locked" in text
