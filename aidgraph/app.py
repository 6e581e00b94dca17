"""The app factory: Starlette routes around the GraphQL view, with the store opened in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypedDict

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

import schema
from adapters.catalog import DEPARTMENTS
from adapters.sources import LiveSource
from aidgraph.db import create_engine
from aidgraph.settings import Settings
from aidgraph.sources import load_live_sources
from resolvers.context import Context

_CONTEXT_KEY = "aidgraph.context"


class State(TypedDict):
    engine: sa.Engine
    live_sources: dict[str, LiveSource]


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with a typed context per request and orjson encoding."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            context = scope.get(_CONTEXT_KEY)
            if context is not None:
                context.connection.close()

    async def get_context(self, request: Any, response: Any) -> Context:
        context = Context.create(request.state.engine, request.state.live_sources, list(DEPARTMENTS))
        request.scope[_CONTEXT_KEY] = context
        return context

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)


async def healthz(request: Request) -> Response:
    engine: sa.Engine = request.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "store": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
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

    view = GraphQLView(
        schema.create_schema(),
        graphql_ide="graphiql" if settings.development else None,
        allow_queries_via_get=False,
    )
    routes = [
        Route("/graphql", view, methods=["GET", "POST"] if settings.development else ["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """Entry point for uvicorn workers (`--factory`): settings come from the environment."""
    return create_app(Settings.from_environment())
