"""The composition root: builds the engine, unit of work, bus and serializer from settings."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import cattrs
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from seedwork.core.bus import MessageBus
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Command, Envelope, Event, MessageRegistry
from seedwork.core.reactions import DeadLetterSink
from seedwork.core.retry import RetryPolicy
from seedwork.core.serialization import Serializer
from seedwork.core.structuring import make_converter
from shop.adapters import mapping
from shop.adapters.database import create_database_engine
from shop.adapters.failed_events import SqlFailedEvents
from shop.adapters.tables import seedwork_tables
from shop.adapters.unit_of_work import SqlShopUnitOfWork
from shop.config import Settings
from shop.views.projections.apply import project

if TYPE_CHECKING:
    from seedwork.observability.metrics import Metrics
    from seedwork.observability.tracing import Tracing

log = logging.getLogger("shop")

# Beyond what any column holds: refused as invalid rather than failing in the database.
LARGEST_INTEGER = 2**31 - 1


def message_registry() -> MessageRegistry:
    """Every command and event of the shop, by wire name."""
    from shop.domain import commands, events

    return MessageRegistry().add_module(commands).add_module(events)


@functools.cache
def message_converter() -> cattrs.Converter:
    """How payloads become messages, at both doors (HTTP bodies and Redis messages)."""
    return make_converter(largest_integer=LARGEST_INTEGER)


def default_handlers() -> tuple[
    Mapping[type[Command], Callable[..., Any]], Mapping[type[Event], Sequence[Callable[..., Any]]]
]:
    """The shop's command handlers and its reactions to events (the read models are not
    among them: they are projected inline, by the unit of work)."""
    from shop.service_layer import handlers

    return handlers.COMMAND_HANDLERS, handlers.EVENT_HANDLERS


def envelope_dependencies() -> Mapping[str, Callable[[Envelope], Any]]:
    """What handlers get from the envelope they handle: the caller's visa (CONTRACT §4)."""
    from shop.service_layer.handlers import FROM_ENVELOPE

    return FROM_ENVELOPE


class CommitHooks:
    """Listeners told of the events a message committed, its reactions' included, once they
    ran (``shop run`` publishes them)."""

    def __init__(self) -> None:
        self.listeners: list[Callable[[list[Envelope]], None]] = []

    def __call__(self, envelopes: list[Envelope]) -> None:
        for listener in self.listeners:
            listener(envelopes)


@attrs.define
class Shop:
    """A wired application: what entrypoints need, and ``close()`` to release it."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    serializer: Serializer
    bus: MessageBus
    uow_factory: Callable[[], SqlShopUnitOfWork]
    metrics: Metrics
    tracing: Tracing | None = None
    redis: Redis | None = None
    on_commit: CommitHooks = attrs.field(factory=lambda: CommitHooks())
    _closed: bool = attrs.field(default=False, init=False)

    def close(self) -> None:
        """Dispose of the connection pools (and export the spans not exported yet); the last
        shop to close unmaps the domain classes. Closing again does nothing."""
        if self._closed:
            return
        self._closed = True
        if self.tracing is not None:
            self.tracing.flush()
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()
        mapping.stop_mappers()


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    command_handlers: Mapping[type[Command], Callable[..., Any]] | None = None,
    event_handlers: Mapping[type[Event], Sequence[Callable[..., Any]]] | None = None,
    dependencies: Mapping[str, Any] | None = None,
    dead_letters: DeadLetterSink | None = None,
    retry: RetryPolicy | None = None,
    wake_relays: bool = False,
    tracing: Tracing | None = None,
) -> Shop:
    """Wire the application. Nothing connects until the first message is handled.

    ``wake_relays``: commits NOTIFY relays in other processes (``shop api``, ``shop consumer``
    beside a standalone ``shop relay``); ``shop run`` wakes its own relay in-process. The routes
    by which events leave are told in ``seedwork.sqlalchemy.relay``.
    ``tracing``: given (tests), or as the ``OTEL_*`` variables ask (off by default).
    """
    from seedwork.observability.metrics import process_metrics

    metrics = process_metrics()
    tracing = tracing or process_tracing()
    settings = settings or Settings.from_env()
    engine = engine or create_database_engine(settings.database_url)
    session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    serializer = Serializer(message_registry(), message_converter())
    uow_factory = functools.partial(
        SqlShopUnitOfWork,
        session_factory,
        seedwork_tables,
        serializer,
        project=project,
        wake_relays=wake_relays,
    )
    default_commands, default_events = default_handlers()
    on_commit = CommitHooks()
    bus = MessageBus(
        command_handlers=default_commands if command_handlers is None else command_handlers,
        event_handlers=default_events if event_handlers is None else event_handlers,
        dependencies=Dependencies(
            values=dict(dependencies or {}),
            factories={"uow": uow_factory},
            from_envelope=envelope_dependencies(),
        ),
        dead_letters=dead_letters
        or SqlFailedEvents(
            engine, seedwork_tables.failed_events, serializer, redact=settings.redactor()
        ),
        retry=retry or RetryPolicy(),
        on_settled=on_commit,
        metrics=metrics,
        tracing=tracing,
    )
    redis = redis_client(settings.redis_url) if settings.redis_url else None
    mapping.start_mappers()  # undone by the shop's close()
    return Shop(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        serializer=serializer,
        bus=bus,
        uow_factory=uow_factory,
        metrics=metrics,
        tracing=tracing,
        redis=redis,
        on_commit=on_commit,
    )


@functools.cache
def process_tracing() -> Tracing | None:
    """This process's tracing, as the ``OTEL_*`` variables ask: None unless they ask for it."""
    from seedwork.observability.tracing import tracing_from_env

    return tracing_from_env(os.environ)


def redis_client(url: str) -> Redis:
    """A Redis client for the URL; it connects on first use, with short timeouts."""
    return Redis.from_url(
        url,
        socket_timeout=5,
        socket_connect_timeout=2,
        health_check_interval=15,
        retry_on_timeout=False,
    )
