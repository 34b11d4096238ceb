"""Traces are configured by the standard ``OTEL_*`` variables only, and off by default."""

from __future__ import annotations

import pytest

from seedwork.core.errors import ConfigurationError
from seedwork.observability.settings import exporter_names
from seedwork.observability.tracing import tracing_from_env


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, []),
        ({"OTEL_SERVICE_NAME": "shop-eu"}, []),
        ({"OTEL_TRACES_EXPORTER": "none"}, []),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": " Console , otlp "}, ["console", "otlp"]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, []),
    ],
)
def test_the_exporters_asked_for(environ: dict[str, str], expected: list[str]) -> None:
    assert exporter_names(environ) == expected


def test_an_unknown_exporter_is_refused_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"OTEL_TRACES_EXPORTER must be .* got 'zipkin'"):
        exporter_names({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_off_by_default_and_named_shop_unless_told_otherwise() -> None:
    assert tracing_from_env({}) is None
    tracing = tracing_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert tracing is not None
    try:
        assert tracing.provider.resource.attributes["service.name"] == "shop"
    finally:
        tracing.provider.shutdown()
    named = tracing_from_env({"OTEL_TRACES_EXPORTER": "none,console", "OTEL_SERVICE_NAME": "eu"})
    assert named is not None
    named.provider.shutdown()
