"""The seedwork's own tables: outbox (event log), inbox (processed messages), failed events."""

from __future__ import annotations

import zlib

import attrs
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
Id = BigInteger().with_variant(Integer(), "sqlite")


@attrs.frozen
class SeedworkTables:
    """The outbox, inbox and failed-event tables of one metadata."""

    outbox: Table
    inbox: Table
    failed_events: Table


def wake_channel(outbox: Table) -> str:
    """The PostgreSQL NOTIFY channel on which commits that wrote to ``outbox`` wake relays."""
    return f"seedwork_outbox_{zlib.crc32(outbox.fullname.encode()):08x}"


def define_tables(metadata: MetaData) -> SeedworkTables:
    """Add the seedwork tables to an application's metadata."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("message_id", String(36), nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        Column("version", Integer, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("correlation_id", String(36), nullable=False),
        Column("causation_id", String(36), nullable=True),
        # Who caused the event (the subject of the principal whose command led to it): audit.
        Column("actor", String(200), nullable=True),
        Column("envelope", Text, nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("handled_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text, nullable=True),
        # Unused: neither written nor read since the relay's backoff became its one schedule
        # (see seedwork.sqlalchemy.relay); kept so the schema stays what migration 0001 made.
        Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    )
    Index(
        "ix_outbox_unpublished",
        outbox.c.id,
        postgresql_where=outbox.c.published_at.is_(None),
        sqlite_where=outbox.c.published_at.is_(None),
    )
    Index(
        "ix_outbox_unhandled",
        outbox.c.id,
        postgresql_where=outbox.c.handled_at.is_(None),
        sqlite_where=outbox.c.handled_at.is_(None),
    )
    inbox = Table(
        "processed_messages",
        metadata,
        Column("message_id", String(64), primary_key=True),
        Column("handler", String(200), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    failed_events = Table(
        "failed_events",
        metadata,
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("message_id", String(36), nullable=False, index=True),
        Column("handler", String(200), nullable=False),
        Column("type", String(100), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False),
        Column("replayed_at", DateTime(timezone=True), nullable=True),
    )
    return SeedworkTables(outbox=outbox, inbox=inbox, failed_events=failed_events)
