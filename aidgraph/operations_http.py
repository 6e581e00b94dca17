"""The operators' endpoints: `/healthz` (alive), `/readyz` (store and audit trail writable), `/metrics`.

`/metrics` says how much each client asks and how the hub fares, which is nobody else's business:
it answers only callers whose own address lies in `AIDGRAPH_METRICS_NETWORKS` (loopback by default)
and who did not come through a proxy (a request carrying `Forwarded` or `X-Forwarded-For` is
refused, since behind a proxy on the same machine every caller's address is loopback). Under several
workers (`aidgraph serve --workers N`) the answer sums the series of all of them, from the files
prometheus_client keeps in the directory `PROMETHEUS_MULTIPROC_DIR` names.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.outage import OUTAGE_RETRY_AFTER_SECONDS
from adapters.sources import LiveSource
from auth import metrics
from auth.request_log import describe_exception
from auth.tables import audit_disclosure, audit_event

log = logging.getLogger(__name__)
MULTIPROCESS_DIRECTORY: Final = "PROMETHEUS_MULTIPROC_DIR"
# How often each worker writes its gauges (pool, audit queue, sources) for the workers that answer a scrape.
SAMPLED_EVERY_SECONDS: Final = 5.0
PROBED_AT_MOST_EVERY_SECONDS: Final = 1.0
_FORWARDED: Final = ("forwarded", "x-forwarded-for")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


async def healthz(request: Request) -> Response:
    """Alive: answers without the store, so a slow store does not make a load balancer kill the worker."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


class Readiness:
    """Ready: the store answers and the audit trail takes a write (tried, then rolled back).

    Open to every caller, as a load balancer's checks come from anywhere: so a worker probes at most
    once per `PROBED_AT_MOST_EVERY_SECONDS` and answers the calls in between with that probe's verdict.
    """

    def __init__(self) -> None:
        self._verdict: dict[str, str] | None = None
        self._probed_at = -PROBED_AT_MOST_EVERY_SECONDS

    async def handle(self, request: Request) -> Response:
        if time.monotonic() - self._probed_at >= PROBED_AT_MOST_EVERY_SECONDS:
            self._probed_at = time.monotonic()
            self._verdict = await run_in_threadpool(_unready, request.state.engine)
        if self._verdict is not None:
            headers = {"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
            return JSONResponse({"status": "unavailable", **self._verdict}, status_code=503, headers=headers)
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _unready(engine: sa.Engine) -> dict[str, str] | None:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        log.warning("readiness: the store did not answer\n%s", describe_exception(error))
        return {"store": "unreachable"}
    try:
        audit_writable(engine)
    except sa.exc.SQLAlchemyError as error:
        log.warning("readiness: the audit trail took no write\n%s", describe_exception(error))
        return {"audit": "not writable"}
    return None


def audit_writable(engine: sa.Engine) -> None:
    """Write a probe event and roll it back: raises when the trail would refuse a real one (no
    privilege, a read-only or full store, a lock not had). Seq 0 is never a real event's; it names a probe
    disclosure profile, as a read's event names its own, so a store refusing new profiles is not ready."""
    probe = {
        "seq": 0,
        "at": datetime.now(UTC),
        "roles": [],
        "subjects": [],
        "revealed": [],
        "masked": [],
        "withheld": [],
        "disclosure_key": "0" * 64,
        "outcome": "readiness-probe",
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, as the writer takes it
        try:
            connection.execute(
                sa.insert(audit_disclosure), {"key": "0" * 64, "revealed": [], "masked": [], "withheld": []}
            )
            connection.execute(sa.insert(audit_event), probe)
        finally:
            connection.rollback()


class MetricsEndpoint:
    def __init__(self, networks: Sequence[Network]) -> None:
        self._networks = tuple(networks)

    async def handle(self, request: Request) -> Response:
        if not self.allows(request):
            body = {
                "errors": [
                    {
                        "message": "the metrics are answered on the hub's own machine only",
                        "extensions": {"code": "FORBIDDEN"},
                    }
                ]
            }
            return JSONResponse(body, status_code=403)
        sample(request.state.engine, request.state.audit, request.state.live_sources)
        exposition = await run_in_threadpool(_exposition)
        return Response(exposition, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    def allows(self, request: Request) -> bool:
        if any(name in request.headers for name in _FORWARDED) or request.client is None:
            return False
        try:
            address = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def _exposition() -> bytes:
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


def sample(engine: sa.Engine, audit: Any, live_sources: Mapping[str, LiveSource]) -> None:
    """Write this worker's gauges: its store pool, its audit writer's queue, its live sources."""
    pool = engine.pool
    if all(hasattr(pool, name) for name in ("checkedout", "checkedin", "overflow")):
        checked_out, idle, overflow = pool.checkedout(), pool.checkedin(), pool.overflow()  # type: ignore[attr-defined]
        metrics.store_connections(checked_out=checked_out, idle=idle, overflow=overflow)
    metrics.audit_waiting(audit.waiting)
    for department, source in live_sources.items():
        health = source.health()
        metrics.source_health(department, up=health.state != "open", breaker=health.state)


@contextlib.asynccontextmanager
async def sampling(engine: sa.Engine, audit: Any, live_sources: Mapping[str, LiveSource]) -> AsyncIterator[None]:
    """While the worker runs, its gauges are written every few seconds; when it stops, its live gauges go."""

    async def every_few_seconds() -> None:
        while True:
            try:
                sample(engine, audit, live_sources)
            except Exception as error:  # a failed sample never stops the worker, nor the next sample
                log.error("sampling the gauges failed\n%s", describe_exception(error))
            await asyncio.sleep(SAMPLED_EVERY_SECONDS)

    task = asyncio.get_running_loop().create_task(every_few_seconds())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        directory = os.environ.get(MULTIPROCESS_DIRECTORY)
        if directory:
            multiprocess.mark_process_dead(os.getpid(), directory)
