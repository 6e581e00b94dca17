"""The hub's trace spans (OpenTelemetry): their names, and the only attributes a span may carry.

A span goes to whoever runs the trace collector, who is not governed by the access policy: so a span
carries no query text, no variables, no statement or its parameters, no resident id, no name. Its
attributes are a fixed set of keys, each holding what a metric label or a log line may already hold:
the operation as a label (`auth.metrics.operation_label`), the keyed document hash of the audit trail,
the client's id, a route, a status, an outcome, a department, a count. A key outside the set is a
bug, refused where it is written.

Spans are made through the OpenTelemetry API alone; without a configured exporter (the default)
they cost next to nothing and go nowhere. The composition root installs the exporter
(aidgraph/tracing.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final

from opentelemetry import trace

SPANS: Final = frozenset({"request", "authenticate", "analyse", "fetch", "execute", "audit"})
ATTRIBUTES: Final = frozenset(
    {
        "aidgraph.route",
        "aidgraph.method",
        "aidgraph.status",
        "aidgraph.outcome",
        "aidgraph.operation",
        "aidgraph.document",
        "aidgraph.client",
        "aidgraph.requests",
        "aidgraph.events",
    }
)
Attribute = str | int | bool

_tracer = trace.get_tracer("aidgraph")  # a proxy: follows the provider installed later, if any


@contextlib.contextmanager
def span(name: str, **attributes: Attribute) -> Iterator[trace.Span]:
    """A span of one stage of a request, as the current span's child. Attributes by their key without
    the `aidgraph.` prefix: `span("audit", events=1)`."""
    if name not in SPANS:
        raise ValueError(f"no span is named {name!r}")
    with _tracer.start_as_current_span(name) as current:
        annotate(current, **attributes)
        yield current


def annotate(current: trace.Span, **attributes: Attribute | None) -> None:
    """Set attributes on a span (None: left unset), by the same keys as `span`."""
    for key, value in attributes.items():
        qualified = f"aidgraph.{key}"
        if qualified not in ATTRIBUTES:
            raise ValueError(f"a span carries no attribute {qualified!r}")
        if value is not None:
            current.set_attribute(qualified, value)
