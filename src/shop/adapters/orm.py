"""Tables and the imperative mapping of the domain classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from seedwork.tables import SeedworkTables, define_tables

metadata = MetaData()
seedwork_tables: SeedworkTables = define_tables(metadata)


def start_mappers() -> None:
    """Map the domain classes onto the tables (once per process)."""


def repository_factories() -> dict[str, Callable[[Session], Any]]:
    """The repositories a unit of work opens, by attribute name."""
    return {}
