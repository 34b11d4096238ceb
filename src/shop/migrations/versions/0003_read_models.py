"""read models

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_view",
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("price_currency", sa.String(length=3), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "customer_view",
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "order_view",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "customer_order_view",
        sa.Column("customer_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_currency", sa.String(length=3), nullable=False),
        sa.Column("created_position", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "order_id"),
    )
    op.create_index(
        "ix_customer_order_view_newest",
        "customer_order_view",
        ["customer_id", "created_position"],
        unique=False,
    )
    op.create_table(
        "stock_view",
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "batch_view",
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("eta", sa.Date(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("allocated", sa.BigInteger(), nullable=False),
        sa.Column("available", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("reference"),
    )
    op.create_index("ix_batch_view_sku", "batch_view", ["sku"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_batch_view_sku", table_name="batch_view")
    op.drop_table("batch_view")
    op.drop_table("stock_view")
    op.drop_index("ix_customer_order_view_newest", table_name="customer_order_view")
    op.drop_table("customer_order_view")
    op.drop_table("order_view")
    op.drop_table("customer_view")
    op.drop_table("product_view")
