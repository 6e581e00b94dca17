"""The app factory: Starlette routes around the GraphQL view, with the store opened in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TypedDict

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import schema
from adapters.sources import LiveSource
from aidgraph.db import create_engine
from aidgraph.graphql_http import GraphQLEndpoint, OpenGate
from aidgraph.settings import Settings
from aidgraph.sources import load_live_sources


class State(TypedDict):
    engine: sa.Engine
    live_sources: dict[str, LiveSource]


async def healthz(request: Request) -> Response:
    engine: sa.Engine = request.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, *, open_access: bool = False) -> Starlette:
    """The hub. `open_access` skips tokens, policy and audit: benchmarks' baseline and data-shape tests only."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[State]:
        engine = create_engine(settings.database_url)
        live_sources = load_live_sources(settings.sources_file)
        try:
            yield {"engine": engine, "live_sources": live_sources}
        finally:
            engine.dispose()
            for source in live_sources.values():
                source.dispose()

    routes = [
        Route("/graphql", GraphQLEndpoint(schema.create_schema(), OpenGate()).handle, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """Entry point for uvicorn workers (`--factory`): settings come from the environment."""
    return create_app(Settings.from_environment())
