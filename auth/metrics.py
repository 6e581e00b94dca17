"""The hub's metric series (Prometheus): what each counts, and the fixed sets its labels are taken from.

A label value leaves the hub like a field does, to whoever reads the metrics, and every new value is
a new series kept for as long as the process runs: so no label holds what a client chose. An
operation is named only when it is one of the documented operations (`KNOWN_OPERATIONS`), else
`other`; a route only when the hub has it; an outcome, a refusal's reason, a department and a store
connection's state each come from a set written here.

The series are made on first use, not at import: under several workers prometheus_client keeps them
in files of the directory `PROMETHEUS_MULTIPROC_DIR` names, which `aidgraph serve` sets before its
workers start (aidgraph/cli/serve.py), and reads that variable when a series is made.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

OUTCOMES: Final = ("ok", "partial", "refused", "unauthenticated", "rate_limited", "unavailable", "error")

# The operation names of the README, the docs, the benchmarks and the tests' documents. A registered
# operation (the trusted documents of `aidgraph operations add`) is to be counted under its name too,
# once the hub keeps them: `operation_label(name, registered=...)`.
KNOWN_OPERATIONS: Final = frozenset(
    {
        "HouseholdPicture",
        "Picture",
        "Person",
        "Households",
        "Members",
        "KeyTargets",
        "EligibleStudents",
        "Students",
        "Scan",
        "AccessLog",
        "Settlements",
        "ComparisonRuns",
        "Alerts",
    }
)
OTHER: Final = "other"

# Why a request was refused by a limit: the callers of `refused(reason)` use these names.
REFUSAL_REASONS: Final = (
    "requests_per_client",
    "token_requests_per_client",
    "token_requests_per_address",
    "in_flight",
    "sign_in",
    "body_too_large",
)
BREAKER_STATES: Final = ("closed", "half_open", "open")

# Seconds: a household picture takes milliseconds, a first page of students at province scale about one.
LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def operation_label(name: str | None, *, registered: frozenset[str] = frozenset()) -> str:
    """The operation as a label: its name when it is a known or registered one, else `other`."""
    if name is not None and (name in KNOWN_OPERATIONS or name in registered):
        return name
    return OTHER


def outcome_of(status: int, *, partial: bool = False) -> str:
    """The outcome of a request that did not name its own, from its status."""
    if status < 400:
        return "partial" if partial else "ok"
    if status == 401:
        return "unauthenticated"
    if status == 429:
        return "rate_limited"
    if status == 503:
        return "unavailable"
    if status < 500:
        return "refused"
    return "error"


@dataclass(frozen=True)
class Series:
    requests: Counter
    latency: Histogram
    refusals: Counter
    audit_batches: Histogram
    audit_waiting: Gauge
    store_connections: Gauge
    source_up: Gauge
    source_breaker: Gauge
    execution_paths: Counter


@functools.cache
def series() -> Series:
    """The process's series, made once (see the module's note on the directory of several workers)."""
    return Series(
        requests=Counter(
            "aidgraph_requests",
            "Requests answered, by route, operation and outcome.",
            ["route", "operation", "outcome"],
        ),
        latency=Histogram(
            "aidgraph_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route and operation.",
            ["route", "operation"],
            buckets=LATENCY_BUCKETS,
        ),
        refusals=Counter(
            "aidgraph_rate_limit_refusals",
            "Requests refused by a limit (per client, per address, in flight), by reason.",
            ["reason"],
        ),
        audit_batches=Histogram(
            "aidgraph_audit_batch_events",
            "Audit events written together in one transaction (the writer's group commit).",
            buckets=BATCH_BUCKETS,
        ),
        audit_waiting=Gauge(
            "aidgraph_audit_waiting_events",
            "Audit events waiting to be written, summed over the live workers.",
            multiprocess_mode="livesum",
        ),
        store_connections=Gauge(
            "aidgraph_store_connections",
            "Store connections of the workers' pools: checked out (serving a request), idle, overflow.",
            ["state"],
            multiprocess_mode="livesum",
        ),
        source_up=Gauge(
            "aidgraph_source_up",
            "1 when every live worker can read the department's live source, else 0.",
            ["department"],
            multiprocess_mode="livemin",
        ),
        source_breaker=Gauge(
            "aidgraph_source_breaker_workers",
            "Live workers whose circuit breaker of the department's source is in each state.",
            ["department", "state"],
            multiprocess_mode="livesum",
        ),
        execution_paths=Counter(
            "aidgraph_execution_paths",
            "GraphQL operations executed, by path (`compiled`: a registered operation's plan; `executor`: "
            "graphql-core) and, on the executor, why it was not compiled.",
            ["path", "reason"],
        ),
    )


def request_answered(*, route: str, operation: str, outcome: str, seconds: float) -> None:
    """One answered request; `operation` is already a label (`operation_label`)."""
    if outcome not in OUTCOMES:
        outcome = "error"
    found = series()
    found.requests.labels(route, operation, outcome).inc()
    found.latency.labels(route, operation).observe(seconds)


def execution_path(path: str, reason: str = "") -> None:
    """One operation executed by `path`; `reason` is the compiler's word for a shape it does not follow."""
    series().execution_paths.labels(path, reason).inc()


def refused(reason: str) -> None:
    """One request refused by a limit; a reason outside `REFUSAL_REASONS` is counted as `other`."""
    series().refusals.labels(reason if reason in REFUSAL_REASONS else OTHER).inc()


def audit_batch(events: int) -> None:
    """One group commit of the audit writer, of so many events."""
    series().audit_batches.observe(events)


def audit_waiting(events: int) -> None:
    series().audit_waiting.set(events)


def store_connections(*, checked_out: int, idle: int, overflow: int) -> None:
    connections = series().store_connections
    connections.labels("checked_out").set(checked_out)
    connections.labels("idle").set(idle)
    connections.labels("overflow").set(max(overflow, 0))


def source_health(department: str, *, up: bool, breaker: str | None) -> None:
    """A live source as this worker sees it; `breaker` None when the source has no breaker."""
    found = series()
    found.source_up.labels(department).set(1 if up else 0)
    if breaker is not None:
        for state in BREAKER_STATES:
            found.source_breaker.labels(department, state).set(1 if state == breaker else 0)
