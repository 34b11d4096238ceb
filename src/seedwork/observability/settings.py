"""Which traces the standard ``OTEL_*`` variables ask for (read without loading the SDK)."""

from __future__ import annotations

from collections.abc import Mapping

from seedwork.core.errors import ConfigurationError


def exporter_names(environ: Mapping[str, str]) -> list[str]:
    """The span exporters the ``OTEL_*`` variables ask for (none by default).

    ``OTEL_TRACES_EXPORTER``: ``otlp``, ``console`` or ``none`` (a comma list); unset, ``otlp``
    when an OTLP endpoint is set, else none. ``ConfigurationError`` names an unknown one.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    chosen = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not chosen:
        endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )
        return ["otlp"] if endpoint else []
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    unknown = sorted(set(names) - {"otlp", "console", "none"})
    if unknown:
        raise ConfigurationError(
            "OTEL_TRACES_EXPORTER must be otlp, console or none (or a comma list of them),"
            f" got {environ.get('OTEL_TRACES_EXPORTER')!r}"
        )
    return [name for name in names if name != "none"]
