"""A real uvicorn on loopback: with every store connection taken, /graphql answers 503 and /healthz answers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import register, token, world_store
from tests.conftest import BACKENDS
from tests.world import SMALL

PICTURE = "query Picture($number: String!) { household(householdNumber: $number) { address } }"
CLIENT = "civil-affairs-loop"


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    with world_store(request, tmp_path) as store:
        yield store


class Holder:
    """Takes every connection of the app's own request pool, and gives them back: a pool exhausted for real."""

    def __init__(self) -> None:
        self.held: list[sa.Connection] = []

    def routes(self) -> list[Route]:
        async def hold(request: Request) -> Response:
            engine: sa.Engine = request.state.engine
            count = int(request.query_params["count"])
            self.held += [engine.connect() for _ in range(count)]
            return JSONResponse({"held": len(self.held)})

        async def release(_request: Request) -> Response:
            for connection in self.held:
                connection.close()
            self.held.clear()
            return JSONResponse({"held": 0})

        async def serving(request: Request) -> Response:
            [graphql] = [route for route in request.app.routes if getattr(route, "path", None) == "/graphql"]
            return JSONResponse({"serving": graphql.endpoint.__self__.in_flight.serving})

        return [
            Route("/test/hold", hold, methods=["POST"]),
            Route("/test/release", release, methods=["POST"]),
            Route("/test/serving", serving, methods=["GET"]),
        ]


@contextmanager
def served(app: Starlette) -> Iterator[httpx2.Client]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
            for _ in range(200):
                if server.started:
                    break
                threading.Event().wait(0.05)
            yield http
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _hub(url: str, holder: Holder, **settings: object) -> Starlette:
    app = create_app(Settings(database_url=url, token_rate_limit=0, pool_size=1, **settings))  # type: ignore[arg-type]
    app.router.routes.extend(holder.routes())
    return app


def _ask(http: httpx2.Client, bearer: str) -> httpx2.Response:
    body = {"query": PICTURE, "variables": {"number": SMALL}}
    return http.post("/graphql", json=body, headers={"Authorization": f"Bearer {bearer}"})


@pytest.mark.parametrize("waiting_in", ["execution", "authentication"])
def test_with_the_pool_taken_graphql_waits_off_the_loop_healthz_answers_and_the_rest_is_shed(
    world: tuple[str, sa.Engine], waiting_in: str
) -> None:
    # given a served hub with one request in flight at most, a pool of 1 (+1 overflow) and a long pool wait
    url, engine = world
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["assistance-review"])
    newcomer_secret = register(engine, "newcomer", roles=["civil-affairs"], purposes=["assistance-review"])
    holder = Holder()
    with served(_hub(url, holder, max_in_flight=1, pool_timeout=60)) as http:
        bearer = token(http, CLIENT, secret)
        assert _ask(http, bearer).status_code == 200  # the client's record and the policy are now cached
        # a client whose record the worker has not read yet waits for the store while it is authenticated
        waiter = bearer if waiting_in == "execution" else token(http, "newcomer", newcomer_secret)
        # when every connection of the pool is held, and a request is sent
        assert http.post("/test/hold", params={"count": 2}).json() == {"held": 2}
        with ThreadPoolExecutor(1) as pool:
            waiting: Future[httpx2.Response] = pool.submit(_ask, http, waiter)
            # then the loop goes on answering while that request waits for a connection (a blocked loop
            # would leave this poll unanswered, and the client's timeout would fail the test)
            while http.get("/test/serving").json() == {"serving": 0}:
                threading.Event().wait(0.01)
            assert http.get("/healthz").json() == {"status": "ok"}
            # and a second request is not queued behind it: 503 at once, saying when to come back
            shed = _ask(http, bearer)
            assert not waiting.done()
            assert shed.status_code == 503 and shed.headers["retry-after"] == "1"
            assert shed.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
            # and once the connections are given back, the waiting request is answered
            http.post("/test/release")
            assert waiting.result().status_code == 200


def test_a_request_that_gets_no_connection_in_time_is_503_store_busy(world: tuple[str, sa.Engine]) -> None:
    # given a served hub whose requests wait a tenth of a second for a store connection
    url, engine = world
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["assistance-review"])
    holder = Holder()
    with served(_hub(url, holder, pool_timeout=0.1)) as http:
        bearer = token(http, CLIENT, secret)
        assert _ask(http, bearer).status_code == 200
        # when every connection is held
        http.post("/test/hold", params={"count": 2})
        busy = _ask(http, bearer)
        healthy = http.get("/healthz")
        http.post("/test/release")
        # then the request is answered 503 STORE_BUSY with Retry-After, as JSON, and /healthz answers
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.json() == {
            "errors": [
                {
                    "message": "the hub's store has no connection free; try again shortly",
                    "extensions": {"code": "STORE_BUSY"},
                }
            ]
        }
        assert healthy.status_code == 200
        # and with the connections back, it is answered again
        assert _ask(http, bearer).status_code == 200
