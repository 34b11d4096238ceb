"""The relay's SQL on the outbox: whose turn it is, and the claim that keeps commit order.

The claim takes the oldest unsent rows with ``FOR UPDATE SKIP LOCKED`` and marks them sent
in one ``UPDATE ... RETURNING``, inside a transaction that first takes a transaction-scoped
advisory lock (relays take turns, so batches never overtake each other).
"""

from __future__ import annotations

import zlib
from typing import Any

import attrs
from sqlalchemy import Select, Table, func, select, update


@attrs.frozen
class OutboxStatements:
    """The statements one relay runs, built once per relay."""

    take_turn: dict[bool, Select[Any]]  # by whether to wait for the turn: true once it is ours
    read_unsent: Select[Any]  # SQLite: the oldest unsent rows, no locking
    claim_and_mark: Select[Any]  # PostgreSQL: claimed rows, each with ``held`` (see below)

    @classmethod
    def build(cls, outbox: Table, batch_size: int) -> OutboxStatements:
        """The statements for ``outbox``, claiming up to ``batch_size`` rows at a time."""
        turn = zlib.crc32(f"seedwork.sqlalchemy.relay:{outbox.fullname}".encode())
        unsent = (
            select(outbox.c.id)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch_size)
        )
        claimed = (
            update(outbox)
            .where(outbox.c.id.in_(unsent.with_for_update(skip_locked=True).scalar_subquery()))
            .values(published_at=func.now())
            .returning(outbox.c.id, outbox.c.type, outbox.c.envelope)
            .cte("claimed")
        )
        # SKIP LOCKED also skips an unsent row some other writer holds for a moment (the
        # recovery sweep marking it handled, a failure being recorded); publishing the rows
        # after it would break the order. The rest of the statement sees the rows as they were
        # before it, so "unsent, older than the newest claimed, and not claimed" is such a gap:
        # ``held`` is the oldest such row's id, or NULL.
        held = (
            select(func.min(outbox.c.id))
            .where(
                outbox.c.published_at.is_(None),
                outbox.c.id < select(func.max(claimed.c.id)).scalar_subquery(),
                outbox.c.id.not_in(select(claimed.c.id)),
            )
            .scalar_subquery()
        )
        return cls(
            take_turn={
                True: select(func.pg_advisory_xact_lock(turn).is_not(None)),
                False: select(func.pg_try_advisory_xact_lock(turn)),
            },
            read_unsent=unsent.add_columns(outbox.c.type, outbox.c.envelope),
            claim_and_mark=select(
                claimed.c.id, claimed.c.type, claimed.c.envelope, held.label("held")
            ),
        )
