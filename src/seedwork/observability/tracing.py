"""OpenTelemetry spans of the message machinery, and the W3C ``traceparent`` that carries them.

A span's parent is the ``traceparent`` of the envelope it handles when it has one (the span
that made the message, in this process or another), else the current span (an HTTP
request's). Configured only by the standard ``OTEL_*`` variables (``tracing_from_env``), and
off unless they ask for an exporter: then nothing here runs at all (the hooks are ``None``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from seedwork.core.messages import Envelope
from seedwork.observability.settings import exporter_names
from seedwork.observability.traceparent import valid_traceparent

_PROPAGATOR = TraceContextTextMapPropagator()


class Tracing:
    """Starts the spans; one per process, around a tracer provider."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("shop")

    @contextmanager
    def span(
        self,
        name: str,
        *,
        parent: str | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[Span]:
        """A current span, child of ``parent`` (a traceparent) if given, else of the current one."""
        context = self.context_of(parent) if parent else None
        with self._tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=attributes
        ) as span:
            yield span

    def start(
        self, name: str, *, parent: str | None, kind: SpanKind, attributes: Mapping[str, Any]
    ) -> Span:
        """A span that is not made current (the caller ends it)."""
        context = self.context_of(parent) if parent else None
        return self._tracer.start_span(name, context=context, kind=kind, attributes=attributes)

    @staticmethod
    def context_of(traceparent: str) -> Context:
        """The context a traceparent continues."""
        return _PROPAGATOR.extract({"traceparent": traceparent})

    @staticmethod
    def traceparent() -> str | None:
        """The current span as a traceparent (None outside any span)."""
        found = trace.get_current_span().get_span_context()
        if not found.is_valid:
            return None
        return f"00-{found.trace_id:032x}-{found.span_id:016x}-{int(found.trace_flags):02x}"

    @contextmanager
    def consuming(self, envelope: Envelope) -> Iterator[Span]:
        """The consumer's span for a message in, child of the envelope's traceparent."""
        attributes = {
            "messaging.system": "redis",
            "shop.message_type": envelope.name,
            "shop.message_id": envelope.message_id,
            "shop.correlation_id": envelope.correlation_id,
        }
        with self.span(
            f"consume {envelope.name}",
            parent=envelope.traceparent,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        ) as span:
            yield span

    @staticmethod
    def failed(span: Span, error: str) -> None:
        """Mark a span failed with the reason."""
        span.set_status(Status(StatusCode.ERROR, error))

    def publish_spans(self, messages: Sequence[tuple[str, str]]) -> list[Span]:
        """A started producer span per (channel, envelope text), child of the envelope's span."""
        spans = []
        for channel, text in messages:
            try:
                data = json.loads(text)
            except ValueError:
                data = {}
            kind = str(data.get("type"))
            attributes = {
                "messaging.system": "redis",
                "messaging.destination.name": channel,
                "shop.message_type": kind,
                "shop.message_id": str(data.get("message_id")),
                "shop.correlation_id": str(data.get("correlation_id")),
            }
            parent = valid_traceparent(data.get("traceparent"))
            spans.append(
                self.start(
                    f"publish {kind}", parent=parent, kind=SpanKind.PRODUCER, attributes=attributes
                )
            )
        return spans

    @staticmethod
    def end(spans: Sequence[Span], error: BaseException | None = None) -> None:
        """End started spans, marked failed by ``error`` when given."""
        for span in spans:
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end()

    def flush(self) -> None:
        """Export the finished spans now."""
        self.provider.force_flush()


def tracing_from_env(
    environ: Mapping[str, str], *, default_service: str = "shop"
) -> Tracing | None:
    """Tracing as the ``OTEL_*`` variables ask, or None when they ask for none (the default).

    ``OTEL_TRACES_EXPORTER``: ``otlp``, ``console`` or ``none`` (a comma list); unset, ``otlp``
    when an OTLP endpoint is set, else none. ``OTEL_SDK_DISABLED=true`` turns it all off. The
    SDK reads the rest itself (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_*``, ``OTEL_BSP_*``,
    ``OTEL_TRACES_SAMPLER``…).
    """
    names = exporter_names(environ)
    if not names:
        return None
    attributes: dict[str, Any] = {}
    resource_attributes = environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not environ.get("OTEL_SERVICE_NAME") and "service.name=" not in resource_attributes:
        attributes["service.name"] = default_service
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
    return Tracing(provider)


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()
