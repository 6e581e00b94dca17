"""Sending the hub's spans (auth/tracing.py) to an OTLP collector, when a setting names one; off by default."""

from __future__ import annotations

import threading
from typing import Final

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

SERVICE_NAME: Final = "aidgraph"
TRACES_PATH: Final = "/v1/traces"  # OTLP over HTTP: the signal's path below the collector's base address

_installed = threading.Lock()
_provider: TracerProvider | None = None


def otlp_exporter(endpoint: str) -> SpanExporter:
    """OTLP over HTTP with protobuf, to the collector at the base address `endpoint`."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + TRACES_PATH)


def install_exporter(exporter: SpanExporter) -> TracerProvider:
    """Send this process's spans to `exporter` (batched, off the request's path). Once per process:
    OpenTelemetry has one provider for a process, so a second call keeps the first."""
    global _provider
    with _installed:
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
            _provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(_provider)
        return _provider


def flush() -> None:
    """Send the spans still waiting (a worker that stops)."""
    if _provider is not None:
        _provider.force_flush()
