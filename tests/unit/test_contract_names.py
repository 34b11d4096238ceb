"""The messages on Redis are the contract's, by name: a rename or a dropped class fails here."""

from __future__ import annotations

import re
from pathlib import Path

from shop.domain import events
from shop.domain.integration import ACCEPTED_COMMANDS, INTEGRATION_EVENTS, wire_names
from shop.entrypoints.documents.asyncapi import asyncapi_document
from tests.contract import CONTRACT_COMMANDS, CONTRACT_EVENTS

CONTRACT = Path(__file__).parents[2] / "docs" / "CONTRACT.md"


def names_in_section(heading: str) -> set[str]:
    """The back-quoted CamelCase names of one section of docs/CONTRACT.md."""
    section = CONTRACT.read_text(encoding="utf-8").split(heading, 1)[1].split("\n#", 1)[0]
    listed = section.split("Accepted commands:", 1)[-1] if "In:" in heading else section
    return set(re.findall(r"`([A-Z][A-Za-z]+)`", listed.split(".\n", 1)[0]))


def test_the_published_events_are_the_contracts() -> None:
    assert len(set(INTEGRATION_EVENTS)) == len(INTEGRATION_EVENTS)
    assert set(wire_names(INTEGRATION_EVENTS)) == CONTRACT_EVENTS


def test_the_accepted_commands_are_the_contracts() -> None:
    assert set(wire_names(ACCEPTED_COMMANDS)) == CONTRACT_COMMANDS


def test_the_written_out_names_are_those_of_the_contract_document() -> None:
    assert names_in_section("### Out: integration events") == CONTRACT_EVENTS
    assert names_in_section("### In: commands from other systems") == CONTRACT_COMMANDS


def test_a_wire_name_is_the_class_name() -> None:
    assert wire_names([events.OrderShipped, events.OutOfStock]) == ("OrderShipped", "OutOfStock")


def test_the_asyncapi_document_names_the_contracts_messages() -> None:
    messages = set(asyncapi_document("shop")["components"]["messages"])
    assert messages == CONTRACT_EVENTS | CONTRACT_COMMANDS | {"DeadLetter"}
