"""The SQLAlchemy unit of work: a connection and transaction per block; events go to the outbox
in the same commit. An ORM session joins the block's transaction only if a repository asks
for one (``session``): a block whose repositories use Core statements alone never makes one,
which spares it a tenth of a millisecond of the ORM's own bookkeeping."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from seedwork.core.errors import AlreadyHandled, ConcurrencyConflict
from seedwork.core.messages import Envelope, utcnow
from seedwork.core.serialization import Serializer
from seedwork.core.uow import AbstractUnitOfWork
from seedwork.sqlalchemy.tables import SeedworkTables
from seedwork.sqlalchemy.uow_dialects import OUTBOX_CHUNK, dialect_for

Projector = Callable[[Connection, Sequence[Envelope]], None]
"""Applies a commit's events, with their log positions, to the read models (inline), through
the connection of the transaction that records them."""


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """One connection and transaction per ``with`` block.

    A subclass declares its repositories as typed attributes and opens them in ``_open``, on
    the block's ``connection`` (Core statements) or on ``session`` (the ORM; a repository that
    asks for the session only when it needs it spares the blocks that never do)::

        class Shop(SqlAlchemyUnitOfWork):
            orders: SqlOrders

            def _open(self, connection: Connection) -> None:
                self.orders = self.track(SqlOrders(lambda: self.session))
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        tables: SeedworkTables,
        serializer: Serializer,
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
        engine = session_factory.kw.get("bind")
        if not isinstance(engine, Engine):
            raise TypeError("the session factory must be bound to an Engine")
        self._engine: Engine = engine
        self._tables = tables
        self._serializer = serializer
        self.connection: Connection | None = None
        self._session: Session | None = None
        self._relaxed = False
        self._dialect = dialect_for(engine.dialect.name)

    @property
    def session(self) -> Session:
        """The block's ORM session, joined to its transaction (made when first asked for)."""
        if self._session is None:
            assert self.connection is not None, "no session outside a with block"
            self._session = self._session_factory(
                bind=self.connection, join_transaction_mode="rollback_only"
            )
        return self._session

    def _begin(self) -> None:
        self.connection = connection = self._engine.connect()
        self._session = None
        connection.begin()
        self._open(connection)
        self._relaxed = False
        if self.handling is not None and self.handling.dedupe:
            self._claim(connection)

    def _open(self, connection: Connection) -> None:
        """Open this block's repositories (each through ``self.track``)."""

    def _flush(self, connection: Connection) -> None:
        """Write the block's changes, ahead of its events: the ORM's flush, if the block has
        a session (a subclass whose repositories write with their own statements adds them)."""
        if self._session is not None:
            self._session.flush()

    def _claim(self, connection: Connection) -> None:
        """Write the inbox row first: one statement decides whether this message is new.

        A concurrent duplicate waits on the row until this transaction ends, then finds it.
        """
        assert self.handling is not None
        row = {
            "message_id": self.handling.envelope.message_id,
            "handler": self.handling.handler,
            "processed_at": utcnow(),
        }
        # An event's handler may commit without waiting for the WAL flush (see _commit); the
        # database is told so in the claim's own round trip.
        relax = self._dialect.relaxes(self.handling.envelope.message)
        if not self._dialect.claim(connection, self._tables.inbox, row, relax=relax):
            raise AlreadyHandled(self.handling.envelope.message_id)
        self._relaxed = relax

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
        connection = self.connection
        assert connection is not None, "commit outside a with block"
        try:
            self._flush(connection)
            if envelopes:
                envelopes[:] = self._write_outbox(connection, envelopes)
                if self._project is not None:
                    self._project(connection, envelopes)
            connection.commit()
        except StaleDataError as error:
            self.rollback()
            raise ConcurrencyConflict(str(error)) from None
        except (IntegrityError, OperationalError) as error:
            self.rollback()
            if self._dialect.is_retryable(error):
                raise ConcurrencyConflict(str(error.orig)) from None
            raise

    def _write_outbox(self, connection: Connection, envelopes: list[Envelope]) -> list[Envelope]:
        """Insert the envelopes (in chunks: drivers cap a statement's parameters); returns them
        with their log positions."""
        # Events go out to the world: a relaxed commit (see _claim) must be durable after all.
        durable = self._relaxed
        positions: dict[str, int] = {}
        for start in range(0, len(envelopes), OUTBOX_CHUNK):
            chunk = envelopes[start : start + OUTBOX_CHUNK]
            first = not start
            statement = self._dialect.outbox_statement(
                self._tables.outbox,
                len(chunk),
                notify=self._wake_relays and first,
                durable=durable and first,
            )
            parameters = {
                f"{name}_{n}": value
                for n, envelope in enumerate(chunk)
                for name, value in self._outbox_row(envelope).items()
            }
            if durable and first:
                parameters.update(self._dialect.durability(connection))
            written = statement.run(connection, parameters)
            positions.update((message_id, id_) for id_, message_id in written)
        return [attrs.evolve(e, log_position=positions.get(e.message_id)) for e in envelopes]

    def _outbox_row(self, envelope: Envelope) -> dict[str, Any]:
        message = envelope.message  # its payload is unstructured once, by ``dumps``
        return {
            "message_id": envelope.message_id,
            "type": message.message_name(),
            "version": message.VERSION,
            "occurred_at": envelope.occurred_at,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
            "actor": envelope.actor,
            "envelope": self._serializer.dumps(envelope),
        }

    def _translate(self, error: BaseException) -> BaseException | None:
        if isinstance(error, StaleDataError):
            return ConcurrencyConflict(str(error))
        dialect = self._dialect
        if isinstance(error, IntegrityError | OperationalError) and dialect.is_retryable(error):
            return ConcurrencyConflict(str(error.orig))
        return None

    def rollback(self) -> None:
        """Discard the change and the pending events."""
        if self.connection is not None:
            self.connection.rollback()
        for aggregate in self._seen:
            aggregate.collect_events()

    def _end(self) -> None:
        session, self._session = self._session, None
        connection, self.connection = self.connection, None
        try:
            if session is not None:
                session.close()
        finally:
            if connection is not None:
                connection.close()
