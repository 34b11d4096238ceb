"""The SQLAlchemy unit of work: a session per block; events go to the outbox in the same commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from seedwork.core.errors import AlreadyHandled, ConcurrencyConflict
from seedwork.core.messages import Envelope, utcnow
from seedwork.core.serialization import Serializer
from seedwork.core.uow import AbstractUnitOfWork
from seedwork.sqlalchemy.tables import SeedworkTables
from seedwork.sqlalchemy.uow_dialects import ANY, OUTBOX_CHUNK, dialect_for

Projector = Callable[[Session, Sequence[Envelope]], None]
"""Applies a commit's events, with their log positions, to the read models (inline)."""


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """One session and transaction per ``with`` block.

    A subclass declares its repositories as typed attributes and opens them on each block's
    session in ``_open``::

        class Shop(SqlAlchemyUnitOfWork):
            orders: SqlOrders

            def _open(self, session: Session) -> None:
                self.orders = self.track(SqlOrders(session))
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
        self._tables = tables
        self._serializer = serializer
        self.session: Session | None = None
        self._relaxed = False
        self._dialect = ANY  # the session's, from the first block on

    def _begin(self) -> None:
        self.session = session = self._session_factory()
        self._dialect = dialect_for(session.get_bind().dialect.name)
        self._open(session)
        self._relaxed = False
        if self.handling is not None and self.handling.dedupe:
            self._claim(session)

    def _open(self, session: Session) -> None:
        """Open this block's repositories on ``session`` (each through ``self.track``)."""

    def _flush(self, session: Session) -> None:
        """Write the block's changes, ahead of its events: the ORM's flush (a subclass whose
        repositories write with their own statements adds them)."""
        session.flush()

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
        # An event's handler may commit without waiting for the WAL flush (see _commit); the
        # database is told so in the claim's own round trip.
        relax = self._dialect.relaxes(self.handling.envelope.message)
        if not self._dialect.claim(session, self._tables.inbox, row, relax=relax):
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
        session = self.session
        assert session is not None, "commit outside a with block"
        try:
            self._flush(session)
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
            if self._dialect.is_retryable(error):
                raise ConcurrencyConflict(str(error.orig)) from None
            raise

    def _write_outbox(self, session: Session, envelopes: list[Envelope]) -> list[Envelope]:
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
                parameters.update(self._dialect.durability(session))
            written = session.connection().execute(statement, parameters)
            positions.update((message_id, id_) for id_, message_id in written.tuples())
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
        if self.session is not None:
            self.session.rollback()
        for aggregate in self._seen:
            aggregate.collect_events()

    def _end(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
