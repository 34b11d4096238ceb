"""The relay's claim on PostgreSQL: relays take turns, and each batch is claimed and marked at once.

One transaction on the relay's own connection: take a turn on a
transaction-scoped advisory lock (two batches published side by side could overtake each other
and break the contract's per-aggregate order; one relay publishes far faster than the shop
commits, so turns cost nothing and the others are hot standbys); claim and mark the batch in one
``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`` (without waiting for
the turn, in the same statement as taking it); publish; commit. A failed
publish rolls the marks back, so nothing is marked sent that was not published. A relay built to
listen is woken by the commits' NOTIFY (``seedwork.sqlalchemy.commit_listener``).
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, Row, Select, Table, func, select, true, update

from seedwork.sqlalchemy.commit_listener import CommitListener
from seedwork.sqlalchemy.direct import Direct
from seedwork.sqlalchemy.relay_claim import Publish, PublishFailed
from seedwork.sqlalchemy.tables import wake_channel

log = logging.getLogger("seedwork.sqlalchemy.relay")


def take_turn(outbox: Table, *, wait: bool) -> Select[Any]:
    """The relays' turn on ``outbox`` for this transaction: true once it is ours (without
    ``wait``: false at once when another relay has it).

    Taking the turn also lets the relay's transaction commit without waiting for its WAL
    flush: a mark lost to a database crash only sends its rows again, and delivery is at least
    once anyway (consumers de-duplicate by message id). The events themselves were written by
    durable commits, so the relay never publishes what a crash could take back (ADR 0007)."""
    turn = zlib.crc32(f"seedwork.sqlalchemy.relay:{outbox.fullname}".encode())
    relaxed = func.set_config("synchronous_commit", "off", True).label("relaxed")
    if wait:
        return select(func.pg_advisory_xact_lock(turn).is_not(None).label("ok"), relaxed)
    return select(func.pg_try_advisory_xact_lock(turn).label("ok"), relaxed)


@attrs.frozen
class OutboxStatements:
    """The statements one relay runs, built once per relay."""

    take_turn: dict[bool, Direct]  # by whether to wait for the turn: true once it is ours
    claim_and_mark: Direct  # claimed rows, each with ``held`` (see below)
    # Without waiting, the turn and the claim in one statement (one round trip fewer on the
    # path every message takes): ``ok`` on every row, one row of NULLs besides it when no row
    # was claimed; nothing is claimed unless the turn was taken first (the claim's condition).
    try_claim_and_mark: Direct

    @classmethod
    def build(cls, outbox: Table, batch_size: int) -> OutboxStatements:
        """The statements for ``outbox``, claiming up to ``batch_size`` rows at a time."""
        unsent = (
            select(outbox.c.id)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch_size)
        )
        claim = (
            update(outbox)
            .where(outbox.c.id.in_(unsent.with_for_update(skip_locked=True).scalar_subquery()))
            .values(published_at=func.now())
            .returning(outbox.c.id, outbox.c.type, outbox.c.envelope)
        )
        claimed = claim.cte("claimed")
        turn = take_turn(outbox, wait=False).cte("turn")
        claimed_in_turn = claim.where(select(turn.c.ok).scalar_subquery()).cte("claimed")

        # SKIP LOCKED also skips an unsent row some other writer holds for a moment (the
        # recovery sweep marking it handled, a failure being recorded); publishing the rows
        # after it would break the order. The rest of the statement sees the rows as they were
        # before it, so "unsent, older than the newest claimed, and not claimed" is such a gap:
        # ``held`` is the oldest such row's id, or NULL.
        def held(claimed: Any) -> Any:
            return (
                select(func.min(outbox.c.id))
                .where(
                    outbox.c.published_at.is_(None),
                    outbox.c.id < select(func.max(claimed.c.id)).scalar_subquery(),
                    outbox.c.id.not_in(select(claimed.c.id)),
                )
                .scalar_subquery()
                .label("held")
            )

        return cls(
            take_turn={wait: Direct(take_turn(outbox, wait=wait)) for wait in (True, False)},
            claim_and_mark=Direct(
                select(claimed.c.id, claimed.c.type, claimed.c.envelope, held(claimed)),
                named=True,
            ),
            try_claim_and_mark=Direct(
                select(
                    turn.c.ok,
                    claimed_in_turn.c.id,
                    claimed_in_turn.c.type,
                    claimed_in_turn.c.envelope,
                    held(claimed_in_turn),
                ).select_from(turn.outerjoin(claimed_in_turn, true())),
                named=True,
            ),
        )


class _Gap(Exception):
    """The claim skipped an older unsent row that another transaction holds."""


class PostgresqlClaim:
    """Claims with ``FOR UPDATE SKIP LOCKED`` under the relays' turn, on a connection of its own."""

    def __init__(self, engine: Engine, outbox: Table, batch_size: int) -> None:
        self._engine = engine
        self._outbox = outbox
        self._statements = OutboxStatements.build(outbox, batch_size)
        self._connection: Connection | None = None
        self._gaps = 0  # claims in a row that found an older unsent row held

    @property
    def held(self) -> bool:
        """Whether the last round stopped before an older unsent row another transaction held."""
        return self._gaps > 0

    def relay(self, publish: Publish, *, wait: bool) -> int | None:
        """Take the turn, claim and mark a batch in one statement, publish, commit."""
        connection = self._own_connection()
        try:
            with connection.begin():
                rows: list[Row[Any]]
                if wait:
                    if not self._statements.take_turn[True].run(connection).scalar():
                        return None
                    rows = self._statements.claim_and_mark.run(connection).all()
                else:
                    rows = self._statements.try_claim_and_mark.run(connection).all()
                    if not rows[0].ok:
                        return None
                    rows = [row for row in rows if row.id is not None]
                rows.sort(key=_id)
                if rows and rows[0].held is not None:
                    raise _Gap(rows[0].held)
                publish(rows)
        except _Gap as gap:
            # Rolled back. Such a row is held for milliseconds; the next try will likely pass.
            self._gaps += 1
            level = logging.WARNING if self._gaps % 10 == 0 else logging.INFO
            log.log(level, "relay waits for unsent row id=%s held by another transaction", gap)
            return None
        except PublishFailed:
            raise  # rolled back, so the rows' locks are free for the failure to be recorded
        except Exception:
            self._drop_connection()
            raise
        self._gaps = 0
        return len(rows)

    def listener(self, wake: Callable[[], None]) -> Callable[[threading.Event], None]:
        """LISTEN for the NOTIFY that commits of other processes send on the outbox's channel."""
        return CommitListener(self._engine, wake_channel(self._outbox), wake).run

    def close(self) -> None:
        """Give the relay's own connection back."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _own_connection(self) -> Connection:
        """The relay's own connection, kept between batches (no pool checkout, no ping)."""
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # it is being thrown away anyway
                log.debug("relay connection did not close cleanly", exc_info=True)


def _id(row: Row[Any]) -> int:
    return int(row.id)
