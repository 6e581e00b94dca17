"""Sending the hub's spans (auth/tracing.py) to an OTLP collector, when a setting names one; off by default."""

from __future__ import annotations

import threading
from typing import Final

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

SERVICE_NAME: Final = "aidgraph"
TRACES_PATH: Final = "/v1/traces"  # OTLP over HTTP: the signal's path below the collector's base address

_installed = threading.Lock()
_provider: TracerProvider | None = None
_exporting: set[str] = set()


def otlp_exporter(endpoint: str) -> SpanExporter:
    """OTLP over HTTP with protobuf, to the collector at the base address `endpoint`."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + TRACES_PATH)


def export_otlp(endpoint: str) -> None:
    """Send this process's spans to the collector at `endpoint`, in batches, by a thread of their own
    (off the requests' path); once per endpoint, however many apps the process makes."""
    with _installed:
        if endpoint in _exporting:
            return
        _exporting.add(endpoint)
    install(BatchSpanProcessor(otlp_exporter(endpoint)))


def install(processor: SpanProcessor) -> None:
    """Hand every span this process ends to `processor`. OpenTelemetry has one provider per process,
    made on the first call; later calls add their processor to it."""
    global _provider
    with _installed:
        if _provider is None:
            _provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
            trace.set_tracer_provider(_provider)
        _provider.add_span_processor(processor)


def flush() -> None:
    """Send the spans still waiting (a worker that stops)."""
    if _provider is not None:
        _provider.force_flush()
