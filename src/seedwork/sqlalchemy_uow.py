"""The SQLAlchemy unit of work: a session per block; events go to the outbox in the same commit."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from sqlalchemy import Table, TextClause, bindparam, insert, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from seedwork.errors import AlreadyHandled, ConcurrencyConflict
from seedwork.messages import Envelope, utcnow
from seedwork.serialization import Serializer
from seedwork.tables import SeedworkTables
from seedwork.uow import AbstractUnitOfWork

RepositoryFactory = Callable[[Session], Any]

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
    ) -> None:
        super().__init__()
        self._session_factory = session_factory
        self._tables = tables
        self._serializer = serializer
        self._repository_factories = repositories
        self._repositories: dict[str, Any] = {}
        self.session: Session | None = None

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
            statement = _claim_statement(dialect, inbox)
            if session.execute(statement, row).first() is None:
                raise AlreadyHandled(self.handling.envelope.message_id)
            return
        try:
            with session.begin_nested():
                session.execute(insert(inbox), row)
        except IntegrityError:
            raise AlreadyHandled(self.handling.envelope.message_id) from None

    def _commit(self, envelopes: list[Envelope]) -> None:
        session = self.session
        assert session is not None, "commit outside a with block"
        try:
            session.flush()
            if envelopes:
                outbox = self._tables.outbox
                written = session.execute(
                    insert(outbox).returning(
                        outbox.c.id, outbox.c.message_id, sort_by_parameter_order=True
                    ),
                    [self._outbox_row(e) for e in envelopes],
                )
                positions = dict((message_id, id_) for id_, message_id in written.tuples())
                envelopes[:] = [
                    attrs.evolve(e, log_position=positions.get(e.message_id)) for e in envelopes
                ]
            session.commit()
        except StaleDataError as error:
            session.rollback()
            raise ConcurrencyConflict(str(error)) from None
        except (IntegrityError, OperationalError) as error:
            session.rollback()
            if _is_retryable(error):
                raise ConcurrencyConflict(str(error.orig)) from None
            raise

    def _outbox_row(self, envelope: Envelope) -> dict[str, Any]:
        data = self._serializer.envelope_dict(envelope)
        return {
            "message_id": envelope.message_id,
            "type": data["type"],
            "version": data["version"],
            "occurred_at": envelope.occurred_at,
            "correlation_id": envelope.correlation_id,
            "causation_id": envelope.causation_id,
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
def _claim_statement(dialect: str, inbox: Table) -> TextClause:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING, as text: SQLAlchemy cannot cache the
    compiled form of its ON CONFLICT construct, and this runs for every event handled."""
    name = inbox.name if inbox.schema is None else f"{inbox.schema}.{inbox.name}"
    return text(
        f"INSERT INTO {name} (message_id, handler, processed_at)"
        " VALUES (:message_id, :handler, :processed_at)"
        " ON CONFLICT DO NOTHING RETURNING message_id"
    ).bindparams(bindparam("processed_at", type_=inbox.c.processed_at.type))


def _is_retryable(error: Exception) -> bool:
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _RETRYABLE_SQLSTATES
    text = str(orig or error).lower()
    # SQLite: a concurrent insert of the same key, or a busy database.
    return "unique constraint failed" in text or "database is locked" in text
