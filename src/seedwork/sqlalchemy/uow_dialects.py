"""What the unit of work does differently per database, picked in one place (``dialect_for``).

Three things differ: how the inbox row is claimed (``INSERT ... ON CONFLICT DO NOTHING`` where
the database has it, else a plain insert in a savepoint), what the outbox write adds to its
INSERT on PostgreSQL (the relays' NOTIFY, and durability restored after a relaxed claim), and
which errors mean "another transaction won; try again".
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, text
from sqlalchemy.exc import IntegrityError

from seedwork.core.messages import Event
from seedwork.sqlalchemy.commit_listener import wake_relays
from seedwork.sqlalchemy.direct import Direct

_OUTBOX_COLUMNS = (
    "message_id", "type", "version", "occurred_at", "correlation_id", "causation_id", "actor",
    "envelope",
)  # fmt: skip

OUTBOX_CHUNK = 500  # rows per INSERT: 8 parameters each, well under every driver's cap


class Dialect:
    """Any database SQLAlchemy speaks: the inbox row claimed in a savepoint, a plain outbox
    INSERT; no NOTIFY (relays find the rows at their poll), no relaxed durability."""

    def relaxes(self, message: Any) -> bool:
        """Whether handling ``message`` may commit without waiting for its flush (see
        ``SqlAlchemyUnitOfWork._commit``)."""
        return False

    def claim(
        self, connection: Connection, inbox: Table, row: dict[str, Any], *, relax: bool
    ) -> bool:
        """Write the inbox row; False when it was there already (the message was handled)."""
        try:
            with connection.begin_nested():
                connection.execute(insert(inbox), row)
        except IntegrityError:
            return False
        return True

    def outbox_statement(self, outbox: Table, count: int, *, notify: bool, durable: bool) -> Direct:
        """The INSERT ... RETURNING of ``count`` outbox rows (``notify``, ``durable``: see
        ``PostgresqlDialect``; other databases have neither)."""
        return _outbox_statement(outbox, count, notify=False, durable=False)

    def durability(self, connection: Connection) -> dict[str, Any]:
        """The parameters a ``durable`` outbox statement needs (none here)."""
        return {}

    def is_retryable(self, error: Exception) -> bool:
        """Whether ``error`` means another transaction won and the work may be tried again."""
        sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
        return sqlstate is not None and sqlstate in _RETRYABLE_SQLSTATES


class SqliteDialect(Dialect):
    """SQLite: ON CONFLICT DO NOTHING; retry on a concurrent insert of the same key or a busy
    database (its errors carry no SQLSTATE)."""

    def claim(
        self, connection: Connection, inbox: Table, row: dict[str, Any], *, relax: bool
    ) -> bool:
        """Write the inbox row in one statement; False when it was there already."""
        return _claim_statement(inbox, relax=False).run(connection, row).first() is not None

    def is_retryable(self, error: Exception) -> bool:
        """A unique constraint hit by a concurrent insert, or a locked database."""
        message = str(getattr(error, "orig", None) or error).lower()
        return "unique constraint failed" in message or "database is locked" in message


class PostgresqlDialect(Dialect):
    """PostgreSQL: ON CONFLICT DO NOTHING, relaxed durability for event handlers, NOTIFY."""

    def relaxes(self, message: Any) -> bool:
        """An event's handler: it may commit without waiting for the WAL flush (ADR 0007)."""
        return isinstance(message, Event)

    def claim(
        self, connection: Connection, inbox: Table, row: dict[str, Any], *, relax: bool
    ) -> bool:
        """Write the inbox row in one statement (with ``relax``, the same statement turns
        ``synchronous_commit`` off for this transaction); False when it was there already.

        The first relaxing claim on a connection also reads the configured durability, kept
        in the connection's ``info`` for the outbox statement to restore by value (reading
        pg_settings costs about a millisecond: once per connection, not once per event)."""
        info = connection.info
        learn = relax and _DURABILITY not in info
        statement = _claim_statement(inbox, relax=relax, learn=learn)
        claimed = statement.run(connection, row).first()
        if claimed is None:
            return False
        if learn:
            info[_DURABILITY] = claimed[1]  # message_id, durability
        return True

    def outbox_statement(self, outbox: Table, count: int, *, notify: bool, durable: bool) -> Direct:
        """With ``notify``, the INSERT also wakes relays in other processes
        (``commit_listener.wake_relays``); with ``durable``, it restores ``synchronous_commit``."""
        return _outbox_statement(outbox, count, notify=notify, durable=durable)

    def durability(self, connection: Connection) -> dict[str, Any]:
        """The configured ``synchronous_commit``, as the claim learnt it (None: not learnt, the
        statement reads it from pg_settings)."""
        return {"durability": connection.info.get(_DURABILITY)}


_DIALECTS: dict[str, Dialect] = {"postgresql": PostgresqlDialect(), "sqlite": SqliteDialect()}
ANY = Dialect()


def dialect_for(name: str) -> Dialect:
    """The unit of work's ways on the database SQLAlchemy calls ``name``."""
    return _DIALECTS.get(name, ANY)


# PostgreSQL SQLSTATEs that mean "another transaction won; try again".
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}


#: Where a connection's configured ``synchronous_commit`` is kept (its ``info``).
_DURABILITY = "seedwork.synchronous_commit"

#: The configured ``synchronous_commit``, whatever this transaction set.
_CONFIGURED_DURABILITY = "(SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit')"


@functools.cache
def _claim_statement(inbox: Table, *, relax: bool, learn: bool = False) -> Direct:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING, as text: SQLAlchemy cannot cache the
    compiled form of its ON CONFLICT construct, and this runs for every event handled.

    With ``relax`` (PostgreSQL), the same statement turns ``synchronous_commit`` off for
    this transaction only; with ``learn``, it also returns the configured value
    (``durability``).
    """
    name = inbox.name if inbox.schema is None else f"{inbox.schema}.{inbox.name}"
    source = "VALUES (:message_id, :handler, :processed_at)"
    if relax:
        source = (
            "SELECT :message_id, :handler, :processed_at FROM"
            " (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed"
        )
    returning = f"message_id, {_CONFIGURED_DURABILITY} AS durability" if learn else "message_id"
    return Direct(
        text(
            f"INSERT INTO {name} (message_id, handler, processed_at) {source}"
            f" ON CONFLICT DO NOTHING RETURNING {returning}"
        ).bindparams(bindparam("processed_at", type_=inbox.c.processed_at.type))
    )


@functools.lru_cache(maxsize=128)
def _outbox_statement(outbox: Table, count: int, *, notify: bool, durable: bool) -> Direct:
    """One multi-row INSERT ... RETURNING for ``count`` events, as text built once per count:
    the ORM's own bulk insert costs more Python than the round trip it saves.

    With ``notify`` (PostgreSQL) the same statement NOTIFYs relays in other processes; the
    notification is delivered at commit, and not at all if the transaction rolls back. With
    ``durable`` (PostgreSQL) it sets ``synchronous_commit`` back to the session's own value
    for this transaction, in the same round trip: to the ``durability`` parameter (the value
    the claim learnt), else to the configured value read from pg_settings.
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
            "(SELECT set_config('synchronous_commit',"
            f" coalesce(CAST(:durability AS text), {_CONFIGURED_DURABILITY}), true)) AS durable"
        )
    if extras:
        insert_rows = (
            f"WITH written AS ({insert_rows}) SELECT written.id, written.message_id"
            f" FROM written, {', '.join(extras)}"
        )
    statement = text(insert_rows)
    occurred_at = outbox.c.occurred_at.type
    return Direct(
        statement.bindparams(
            *(bindparam(f"occurred_at_{n}", type_=occurred_at) for n in range(count))
        )
    )
