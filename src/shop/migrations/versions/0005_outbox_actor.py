"""the outbox keeps who caused each event (contract v2 §3: the envelope's actor)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 22:10:00.000000

Events written before have no recorded actor: their column stays NULL, as their envelopes
(which had no ``actor``) say.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable ``actor`` column to the outbox."""
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("actor", sa.String(200), nullable=True))


def downgrade() -> None:
    """Drop the ``actor`` column."""
    with op.batch_alter_table("outbox") as table:
        table.drop_column("actor")
