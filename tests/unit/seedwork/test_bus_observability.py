"""The bus's metrics and spans, through its public surface with in-memory fakes."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from seedwork.core.bus import MessageBus
from seedwork.core.errors import ConcurrencyConflict
from seedwork.core.injection import Dependencies
from seedwork.core.messages import Envelope, MessageRegistry
from seedwork.core.serialization import Serializer
from seedwork.observability.metrics import Metrics
from seedwork.observability.tracing import Tracing
from seedwork.testing.fakes import FakeDeadLetters, FakeInbox, FakeRepository
from tests.unit.seedwork.test_bus import (
    FAST,
    CounterUnitOfWork,
    Increment,
    Incremented,
    increment,
)

_names = itertools.count()


def fresh_metrics() -> Metrics:
    return Metrics(namespace=f"bus_test_{next(_names)}")


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """A counter's value, read as a scrape reads it (0 when never counted)."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in metrics.collectors:
        registry.register(collector)
    value = registry.get_sample_value(f"{metrics.namespace}_{name}", labels)
    return 0.0 if value is None else value


def make_bus(
    *, command: Any = increment, events: Any = None, metrics: Metrics | None = None,
    tracing: Tracing | None = None,
) -> tuple[MessageBus, FakeDeadLetters]:  # fmt: skip
    repository = FakeRepository()
    inbox = FakeInbox()
    dead_letters = FakeDeadLetters()
    bus = MessageBus(
        command_handlers={Increment: command},
        event_handlers=events or {},
        dependencies=Dependencies(
            factories={"uow": lambda: CounterUnitOfWork(repository, inbox=inbox)}
        ),
        dead_letters=dead_letters,
        retry=FAST,
        metrics=metrics,
        tracing=tracing,
    )
    return bus, dead_letters


def test_handled_commands_and_events_are_counted_by_type() -> None:
    metrics = fresh_metrics()
    reactions: list[int] = []
    bus, _ = make_bus(
        events={Incremented: [lambda event: reactions.append(event.value)]}, metrics=metrics
    )
    bus.handle(Increment(counter_id="a"))
    bus.handle(Increment(counter_id="a"))
    assert sample(metrics, "messages_handled_total", kind="command", type="Increment") == 2
    assert sample(metrics, "messages_handled_total", kind="event", type="Incremented") == 2
    assert sample(metrics, "messages_failed_total", kind="command", type="Increment") == 0


def test_a_failed_command_is_counted_failed_and_still_raises() -> None:
    metrics = fresh_metrics()

    def refuse(command: Increment) -> None:
        raise ValueError("no")

    bus, _ = make_bus(command=refuse, metrics=metrics)
    with pytest.raises(ValueError, match="no"):
        bus.handle(Increment(counter_id="a"))
    assert sample(metrics, "messages_failed_total", kind="command", type="Increment") == 1
    assert sample(metrics, "messages_handled_total", kind="command", type="Increment") == 0


def test_each_retry_after_a_conflict_is_counted() -> None:
    metrics = fresh_metrics()
    conflicts = iter([True, True, False])

    def contended(command: Increment, uow: CounterUnitOfWork) -> int:
        if next(conflicts):
            raise ConcurrencyConflict("someone else won")
        return increment(command, uow)

    bus, _ = make_bus(command=contended, metrics=metrics)
    assert bus.handle(Increment(counter_id="a")) == 1
    assert sample(metrics, "messages_retried_total", kind="command", type="Increment") == 2
    assert sample(metrics, "messages_handled_total", kind="command", type="Increment") == 1


def test_an_event_handler_given_up_on_counts_its_retries_and_one_failure() -> None:
    metrics = fresh_metrics()

    def broken(event: Incremented) -> None:
        raise RuntimeError("down")

    bus, dead_letters = make_bus(events={Incremented: [broken]}, metrics=metrics)
    bus.handle(Increment(counter_id="a"))
    assert len(dead_letters.letters) == 1
    # FAST allows 3 attempts for an event: 2 retries, then given up.
    assert sample(metrics, "messages_retried_total", kind="event", type="Incremented") == 2
    assert sample(metrics, "messages_failed_total", kind="event", type="Incremented") == 1
    assert sample(metrics, "messages_handled_total", kind="event", type="Incremented") == 0


def traced() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider), exporter


def test_the_command_its_commit_and_each_reaction_get_spans_parented_by_causation() -> None:
    tracing, exporter = traced()

    def notify(event: Incremented) -> None: ...

    def audit(event: Incremented) -> None: ...

    bus, _ = make_bus(events={Incremented: [notify, audit]}, tracing=tracing)
    bus.handle(Envelope(message=Increment(counter_id="a"), correlation_id="corr-1"))
    spans = {span.name: span for span in exporter.get_finished_spans()}
    command = spans["command Increment"]
    outbox = spans["outbox write"]
    reactions = [span for name, span in spans.items() if name.startswith("reaction Incremented")]
    assert len(reactions) == 2
    assert command.parent is None
    assert outbox.parent is not None and outbox.parent.span_id == command.context.span_id
    for reaction in reactions:
        assert reaction.parent is not None and reaction.parent.span_id == command.context.span_id
        assert reaction.context.trace_id == command.context.trace_id
    for span in (command, *reactions):
        assert span.attributes is not None
        assert span.attributes["shop.correlation_id"] == "corr-1"


def test_the_envelope_carries_a_valid_traceparent_over_the_wire_and_ignores_a_bad_one() -> None:
    serializer = Serializer(MessageRegistry().add(Increment))
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    sent = Envelope(message=Increment(counter_id="a"), traceparent=traceparent)
    assert json.loads(serializer.dumps(sent))["traceparent"] == traceparent
    assert serializer.loads(serializer.dumps(sent)).traceparent == traceparent
    assert "traceparent" not in json.loads(serializer.dumps(Envelope(message=sent.message)))
    for bad in ("nonsense", 42, "00-" + "0" * 32 + "-b7ad6b7169203331-01", None):
        text = json.dumps({"type": "Increment", "traceparent": bad, "payload": {"counter_id": "a"}})
        assert serializer.loads(text).traceparent is None
