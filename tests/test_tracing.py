"""Traces: a span per stage of a request (authenticate, analyse, execute, fetch, audit) below the request's,
carrying no id, name or query text; sent over OTLP to a collector when a setting names one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from opentelemetry.context import Context as TraceContext
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from starlette.testclient import TestClient

from aidgraph import tracing
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.tracing import ATTRIBUTES, span
from tests.access import post, register, token, world_store
from tests.conftest import BACKENDS
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.test_access import Hub
from tests.test_http import _free_port
from tests.test_logs import IDS, NAMES, PHONES
from tests.world import LARGE, SMALL, SMALL_HEAD

SMUGGLED = f"query Q{SMALL_HEAD}($n: String!) {{ household(householdNumber: $n) {{ householdNumber }} }}"


class Recording(SpanProcessor):
    """Keeps the spans that end while a test records, and only then (the provider lasts the process)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []
        self.on = False

    def on_start(self, span: Span, parent_context: TraceContext | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if self.on:
            self.spans.append(span)


_recording = Recording()


@pytest.fixture(scope="session")
def recording() -> Recording:
    tracing.install(_recording)  # the first call makes the process's provider; later ones add to it
    return _recording


@pytest.fixture
def spans(recording: Recording) -> Iterator[list[ReadableSpan]]:
    _recording.spans = []
    _recording.on = True
    yield _recording.spans
    _recording.on = False


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("tracing")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


def _forbidden(document: str) -> list[str]:
    return [*IDS, *NAMES, *PHONES, SMALL, LARGE, document, document.strip()[:40], "householdNumber"]


def test_each_stage_is_a_span_below_the_request(hub: Hub, spans: list[ReadableSpan]) -> None:
    # given a token (its request's spans left out)
    bearer = hub.as_role("civil-affairs", "assistance-review")
    spans.clear()
    # when the household picture is asked for
    post(hub.http, HOUSEHOLD_PICTURE, bearer, householdNumber=LARGE)
    # then the request has its span, and each stage a span below it, the fetches below the execution
    [root] = [found for found in spans if found.name == "request"]
    by_name: dict[str, list[ReadableSpan]] = {}
    for found in spans:
        by_name.setdefault(found.name, []).append(found)
    assert set(by_name) == {"request", "authenticate", "analyse", "execute", "fetch", "audit"}
    assert root.parent is None
    for name in ("authenticate", "analyse", "execute", "audit"):
        [stage] = by_name[name]
        assert stage.parent is not None and stage.parent.span_id == root.context.span_id, name
    [execute] = by_name["execute"]
    assert all(
        fetch.parent is not None and fetch.parent.span_id == execute.context.span_id for fetch in by_name["fetch"]
    )
    assert {found.context.trace_id for found in spans} == {root.context.trace_id}
    # and the request's span names the operation, the client, the route and the outcome
    attributes = dict(root.attributes or {})
    assert attributes["aidgraph.operation"] == "HouseholdPicture"
    assert attributes["aidgraph.client"] == "civil-affairs-assistance-review"
    assert (attributes["aidgraph.route"], attributes["aidgraph.status"], attributes["aidgraph.outcome"]) == (
        "/graphql",
        200,
        "ok",
    )
    assert str(attributes["aidgraph.document"]).startswith("hmac-sha256:")


def test_no_span_carries_an_id_a_name_or_the_query(hub: Hub, spans: list[ReadableSpan]) -> None:
    # given a token, when a documented operation and one of the client's naming are asked, with ids
    bearer = hub.as_role("civil-affairs", "assistance-review")
    post(hub.http, HOUSEHOLD_PICTURE, bearer, householdNumber=SMALL)
    post(hub.http, SMUGGLED, bearer, n=SMALL)
    # then every attribute is one of the fixed keys, and no value holds a person, a key or the documents
    assert spans
    values = [str(value) for found in spans for value in (found.attributes or {}).values()]
    keys = {key for found in spans for key in (found.attributes or {})}
    assert keys <= ATTRIBUTES
    found_forbidden = [
        value for value in values for text in [*_forbidden(HOUSEHOLD_PICTURE), *_forbidden(SMUGGLED)] if text in value
    ]
    assert found_forbidden == []
    # and the client's own name for its operation became `other`
    operations = [found.attributes.get("aidgraph.operation") for found in spans if found.name == "request"]
    assert operations[-1] == "other"


def test_a_span_refuses_a_name_or_an_attribute_outside_the_sets() -> None:
    with pytest.raises(ValueError, match="no span is named"):
        with span("query-text"):
            pass
    with pytest.raises(ValueError, match="aidgraph.variables"):
        with span("fetch", variables=SMALL_HEAD):
            pass


def test_the_exporter_is_off_unless_a_setting_names_a_collector() -> None:
    assert Settings().otlp_endpoint is None
    assert Settings.from_mapping({"AIDGRAPH_OTLP_ENDPOINT": "http://127.0.0.1:4318"}).otlp_endpoint == (
        "http://127.0.0.1:4318"
    )
    standard = Settings.from_mapping({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert standard.otlp_endpoint == "http://127.0.0.1:4318"
    with pytest.raises(ValueError, match="AIDGRAPH_OTLP_ENDPOINT"):
        Settings.from_mapping({"AIDGRAPH_OTLP_ENDPOINT": "127.0.0.1:4318"})


class _Collector(BaseHTTPRequestHandler):
    """An OTLP collector of one path: keeps each export's body."""

    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (the handler's name is http.server's)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(params=["sqlite"])  # one backend: sending spans does not depend on the store
def world_on_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with world_store(request, tmp_path) as (url, engine):
        yield url, register(engine, "civil-traced", roles=["civil-affairs"], purposes=["assistance-review"])


def test_a_served_hub_sends_its_spans_to_the_collector_it_is_given(world_on_sqlite: tuple[str, str]) -> None:
    # given a collector on loopback, and `aidgraph serve` told its address
    url, secret = world_on_sqlite
    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    _Collector.received = []
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    port = _free_port()
    env = {
        **os.environ,
        "AIDGRAPH_DATABASE_URL": url,
        "AIDGRAPH_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between batches, so the test does not wait 5 s
    }
    command = [sys.executable, "-m", "aidgraph.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for _ in range(200):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            # when a request is answered
            post(http, HOUSEHOLD_PICTURE, token(http, "civil-traced", secret), householdNumber=SMALL)
        for _ in range(100):
            if any(b"authenticate" in body for _, _, body in _Collector.received):
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
        collector.shutdown()
        collector.server_close()
    # then the collector was sent its spans, as OTLP protobuf over HTTP, with the service's name
    names = set()
    for path, media_type, body in _Collector.received:
        assert (path, media_type) == ("/v1/traces", "application/x-protobuf")
        export = ExportTraceServiceRequest.FromString(body)
        for resource in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"]
            assert service == "aidgraph"
            names |= {found.name for scope in resource.scope_spans for found in scope.spans}
    assert {"request", "authenticate", "analyse", "execute", "fetch", "audit"} <= names, output
