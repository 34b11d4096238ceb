"""shipped units leave their batches (contract v2 §2); batch counters match the lines again

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 21:45:00.000000

Until now a shipped line's units stayed in its batch's ``quantity`` and ``allocated``; from v2 on
shipping takes them out. Each batch loses its shipped lines' units from ``quantity``, and its
``allocated`` becomes the sum of its unshipped lines (undoing units leaked by the stale reaction of
issue 10). ``available`` may grow by the leaked units: the next change of the sku hands them to
waiting lines. The read-model rows of those batches and skus are brought to the same numbers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _held(shipped: bool) -> str:
    """SQL: the units of the (un)shipped lines holding the batch of the outer row."""
    status = "=" if shipped else "<>"
    return (
        "(SELECT COALESCE(SUM(l.quantity), 0) FROM order_lines l"
        " JOIN orders o ON o.id = l.order_pk"
        f" WHERE l.batch_reference = batches.reference AND o.status {status} 'shipped')"
    )


def upgrade() -> None:
    shipped, unshipped = _held(shipped=True), _held(shipped=False)
    # Never below what the unshipped lines hold, so the check constraint holds whatever came before.
    op.execute(
        sa.text(
            f"UPDATE batches SET"
            f" quantity = CASE WHEN quantity - {shipped} < {unshipped}"
            f" THEN {unshipped} ELSE quantity - {shipped} END,"
            f" allocated = {unshipped}"
        )
    )
    op.execute(sa.text("UPDATE stocks SET version = version + 1"))
    same = "FROM batches b WHERE b.reference = batch_view.reference"
    op.execute(
        sa.text(
            f"UPDATE batch_view SET quantity = (SELECT b.quantity {same}),"
            f" allocated = (SELECT b.allocated {same}),"
            f" available = (SELECT b.quantity - b.allocated {same})"
            f" WHERE EXISTS (SELECT 1 {same})"
        )
    )
    op.execute(
        sa.text(
            "UPDATE stock_view SET available = (SELECT COALESCE(SUM(b.quantity - b.allocated), 0)"
            " FROM batches b WHERE b.sku = stock_view.sku)"
        )
    )


def downgrade() -> None:
    """Shipped units cannot be counted back in: nothing to undo in the schema."""
