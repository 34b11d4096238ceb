"""The shop's tables and their metadata (the seedwork's outbox, inbox and failed events among them).

Every aggregate root carries a version column (optimistic locking). Bounded contexts refer
to each other by id only, so there are no foreign keys across them, only indexes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)

from seedwork.sqlalchemy.tables import Id, SeedworkTables, define_tables
from shop.domain.kernel import Tier
from shop.domain.ordering import OrderStatus

metadata = MetaData()
seedwork_tables: SeedworkTables = define_tables(metadata)

SKU = String(32)
IDENTIFIER = String(100)
AMOUNT = BigInteger


def _money_columns(prefix: str, nullable: bool = False) -> list[Column[Any]]:
    return [
        Column(f"{prefix}_amount", AMOUNT, nullable=nullable),
        Column(f"{prefix}_currency", String(3), nullable=nullable),
    ]


def _string_enum(enum_class: type[Any], name: str) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class _EnumText(TypeDecorator[Any]):
    """An enum stored as its value in a plain text column (no constraint): loaded as a member."""

    impl = String(20)
    cache_ok = True

    def __init__(self, enum_class: type[Any]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else self.enum_class(value)


products = Table(
    "products",
    metadata,
    Column("sku", SKU, primary_key=True),
    Column("name", String(200), nullable=False),
    *_money_columns("price"),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("price_amount >= 0", name="ck_products_price_not_negative"),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", IDENTIFIER, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("tier", _string_enum(Tier, "customer_tier"), nullable=False),
    Column("version", Integer, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    # The surrogate key doubles as the creation sequence: "oldest order first".
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", IDENTIFIER, nullable=False, unique=True),
    Column("customer_id", IDENTIFIER, nullable=False, index=True),
    Column("tier", _EnumText(Tier), nullable=False),
    Column("status", _string_enum(OrderStatus, "order_status"), nullable=False),
    Column("street", String(200)),
    Column("city", String(200)),
    Column("postcode", String(200)),
    Column("country", String(2)),
    Column("tracking_number", String(100)),
    Column("cancel_reason", String(500)),
    *_money_columns("subtotal"),
    *_money_columns("discount"),
    *_money_columns("shipping_cost"),
    *_money_columns("total"),
    Column("version", Integer, nullable=False),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_pk", Id, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("sku", SKU, nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    *_money_columns("unit_price"),
    Column("batch_reference", IDENTIFIER),
    # Per batch, increasing with each allocation: "newest allocation first".
    Column("allocation_seq", BigInteger),
    UniqueConstraint("order_pk", "sku", name="uq_order_lines_order_sku"),
    CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
)
Index(
    "ix_order_lines_waiting",
    order_lines.c.sku,
    postgresql_where=order_lines.c.batch_reference.is_(None),
    sqlite_where=order_lines.c.batch_reference.is_(None),
)
Index(
    "ix_order_lines_allocated",
    order_lines.c.batch_reference,
    order_lines.c.allocation_seq,
    postgresql_where=order_lines.c.batch_reference.isnot(None),
    sqlite_where=order_lines.c.batch_reference.isnot(None),
)

stocks = Table(
    "stocks",
    metadata,
    Column("sku", SKU, primary_key=True),
    Column("version", Integer, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", IDENTIFIER, nullable=False, unique=True),
    Column("sku", SKU, ForeignKey("stocks.sku", ondelete="CASCADE"), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
    Column("eta", Date),
    Column("allocated", Integer, nullable=False),
    CheckConstraint(
        "allocated >= 0 AND allocated <= quantity", name="ck_batches_allocated_within_quantity"
    ),
)
