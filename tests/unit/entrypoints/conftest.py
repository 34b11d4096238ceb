"""The API over a bus wired to in-memory fakes, and read models fed by the same events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from seedwork.core.bus import MessageBus
from seedwork.core.injection import Dependencies
from seedwork.core.retry import RetryPolicy
from seedwork.testing.fakes import FakeDeadLetters
from shop.adapters.fakes import FakeShopStorage
from shop.entrypoints.http.app import create_app
from shop.service_layer.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, FROM_ENVELOPE
from shop.views.fakes import FakeReadModels
from tests import auth

FAST = RetryPolicy(conflict_attempts=3, event_attempts=1, initial_wait=0.0001, max_wait=0.001)


def fake_bus(
    views: FakeReadModels, command_handlers: dict[type[Any], Callable[..., Any]] | None = None
) -> MessageBus:
    """The shop's handlers on fakes, whose units of work project into the fake read models."""
    storage = FakeShopStorage()
    return MessageBus(
        command_handlers={**COMMAND_HANDLERS, **(command_handlers or {})},
        event_handlers=EVENT_HANDLERS,
        dependencies=Dependencies(
            factories={"uow": storage.unit_of_work_factory(project=views.project)},
            from_envelope=FROM_ENVELOPE,
        ),
        dead_letters=FakeDeadLetters(),
        retry=FAST,
    )


@pytest.fixture
def views() -> FakeReadModels:
    return FakeReadModels()


@pytest.fixture
def app(views: FakeReadModels) -> Flask:
    return create_app(bus=fake_bus(views), views=views, tokens=auth.verifier())


def client_as(app: Flask, authorization: str | None) -> FlaskClient:
    """A test client sending ``authorization`` with every request (None: no header)."""
    client = app.test_client()
    client.environ_base.pop("HTTP_AUTHORIZATION", None)
    if authorization is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = authorization
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A client authenticated as staff (CONTRACT §4), as every test is unless it says otherwise."""
    return client_as(app, auth.bearer())


@pytest.fixture
def anonymous_client(app: Flask) -> FlaskClient:
    """A client sending no token."""
    return client_as(app, None)
