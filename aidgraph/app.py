"""The app factory: Starlette routes around the GraphQL view, with the store opened in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TypedDict

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

import schema
from adapters.sources import LiveSource
from aidgraph import tracing
from aidgraph.admission import InFlight
from aidgraph.console.app import Console
from aidgraph.console.graph import PersonGate
from aidgraph.db import create_engine
from aidgraph.execution import ExecutionThreads
from aidgraph.graphql_gate import Gate, OpenGate
from aidgraph.graphql_http import GraphQLEndpoint, RequestBounds
from aidgraph.observed import Observed
from aidgraph.operations_http import MetricsEndpoint, Readiness, healthz, sampling
from aidgraph.settings import Settings
from aidgraph.sources import load_live_sources
from aidgraph.students_http import StudentExport
from auth.audit import AuditLog, AuditWriter
from auth.authenticate import Authenticator
from auth.gate import SecuredGate
from auth.limiter import MissLimit, SlidingWindow
from auth.policy_store import PolicyCache
from auth.server import TokenService, oauth_routes
from registered.served import RegisteredOperations
from webhooks.dispatcher import Dispatcher

# The export's own pool: a stream holds its connection for as long as the client reads.
EXPORT_POOL_SIZE = 2


class State(TypedDict):
    engine: sa.Engine  # serves requests: statement_timeout on PostgreSQL, pool_timeout
    export_engine: sa.Engine  # streamed exports: no statement_timeout, a pool of their own
    live_sources: dict[str, LiveSource]
    policies: PolicyCache
    audit: AuditWriter
    threads: ExecutionThreads
    registered: RegisteredOperations  # the registered operations this worker serves


def create_app(settings: Settings | None = None, *, open_access: bool = False) -> Starlette:
    """The hub: the OAuth endpoints, and /graphql behind tokens, purposes, policies and the audit trail.

    `open_access` skips tokens, policy and audit: for the benchmark's open baseline and tests of data
    shape only; nothing in the command line or the environment can turn it on.
    """
    settings = settings or Settings()
    consoles: list[Console] = []  # made with the routes below; closed when the hub stops

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_timeout=settings.pool_timeout,
            statement_timeout=settings.statement_timeout,
        )
        export_engine = create_engine(
            settings.database_url,
            pool_timeout=settings.pool_timeout,
            pool_size=EXPORT_POOL_SIZE,
            max_overflow=EXPORT_POOL_SIZE,
        )
        live_sources = load_live_sources(settings.sources_file)
        try:
            async with contextlib.AsyncExitStack() as background:
                if settings.deliver_webhooks and not open_access:
                    await background.enter_async_context(Dispatcher(export_engine))  # may take its time
                # Writes the counted unauthenticated refusals each minute, and what is left at shutdown.
                audit = await background.enter_async_context(AuditWriter(AuditLog(engine)))
                await background.enter_async_context(sampling(engine, audit, live_sources))
                threads = await background.enter_async_context(ExecutionThreads(settings.execution_threads))
                # Each checked against the schema served: one that no longer validates is logged and not served.
                registered = RegisteredOperations(engine, graphql_schema)
                await threads.call(registered.check_all)
                yield {
                    "engine": engine,
                    "export_engine": export_engine,
                    "live_sources": live_sources,
                    "policies": PolicyCache(engine),
                    "audit": audit,
                    "threads": threads,
                    "registered": registered,
                }
        finally:
            for console in consoles:
                console.close()
            engine.dispose()
            export_engine.dispose()
            for source in live_sources.values():
                source.dispose()
            tracing.flush()

    if settings.otlp_endpoint is not None:
        tracing.export_otlp(settings.otlp_endpoint)
    graphql_schema = schema.create_schema(development=settings.development)
    tokens = settings.token_settings()
    service = TokenService(tokens)
    gate: Gate = OpenGate()
    if not open_access:
        authenticator = Authenticator(tokens, keys=service.keys, external=settings.trusted_external_issuer())
        # Per worker, like every limiter (auth/limiter.py); a client's registered limit replaces the default.
        requests = SlidingWindow(limit=settings.client_rate_limit, window=60.0)
        gate = SecuredGate(authenticator, requests=requests)
    misses = MissLimit(per_minute=settings.lookup_miss_limit) if settings.lookup_miss_limit else None
    bounds = RequestBounds(
        max_request_bytes=settings.max_request_bytes,
        request_timeout=settings.request_timeout,
        max_in_flight=settings.max_in_flight,
    )
    in_flight = InFlight(settings.max_in_flight)  # one count per worker, over both bounded endpoints
    routes: list[BaseRoute] = [
        Route(
            "/graphql",
            GraphQLEndpoint(
                graphql_schema,
                gate,
                bounds=bounds,
                in_flight=in_flight,
                misses=misses,
                registered_only=settings.registered_operations_only,
                compiled=settings.compiled_plans,
            ).handle,
            methods=["POST"],
        ),
        Route("/students/export", StudentExport(gate, in_flight=in_flight).handle, methods=["GET"]),
        *oauth_routes(tokens, service=service),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", Readiness().handle, methods=["GET"]),
        Route("/metrics", MetricsEndpoint(settings.networks()).handle, methods=["GET"]),
    ]
    if not open_access:
        # The console's pages ask the graph through an endpoint of their own: the same schema and bounds,
        # the signed-in person in place of a token (aidgraph/console/graph.py).
        people = GraphQLEndpoint(
            graphql_schema,
            PersonGate(),
            bounds=bounds,
            in_flight=in_flight,
            misses=misses,
            compiled=settings.compiled_plans,
        )
        consoles.append(Console(settings, people))
        routes.append(consoles[0].mount())
    return Starlette(routes=routes, middleware=[Middleware(Observed)], lifespan=lifespan)


def app_from_environment() -> Starlette:
    """Entry point for uvicorn workers (`--factory`): settings come from the environment."""
    return create_app(Settings.from_environment())
