"""/metrics: the requests by operation and outcome, the audit writer and the store pool, on SQLite and
PostgreSQL; answered only on the hub's own machine; summed over the workers of `aidgraph serve --workers 2`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth import metrics
from tests.access import post, register, token, world_store
from tests.conftest import BACKENDS
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.test_access import MEMBERS, Hub
from tests.test_http import _free_port
from tests.world import SMALL, SMALL_HEAD

LOOPBACK = ("127.0.0.1", 50123)
# A name of the client's choosing, shaped like a resident id: it must not become a label.
SMUGGLED = f"query Q{SMALL_HEAD}($n: String!) {{ household(householdNumber: $n) {{ householdNumber }} }}"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(http: TestClient | httpx2.Client) -> Samples:
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("metrics")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0)), client=LOOPBACK) as http:
            yield Hub(http, engine)


def test_requests_are_counted_by_known_operation_and_outcome(hub: Hub) -> None:
    # given a scrape before, and a client of the civil-affairs role
    bearer = hub.as_role("civil-affairs", "assistance-review")
    before = scrape(hub.http)
    # when it asks a documented operation twice, one of its own naming, and a caller without a token asks
    post(hub.http, HOUSEHOLD_PICTURE, bearer, householdNumber=SMALL)
    post(hub.http, MEMBERS, bearer, n=SMALL)
    post(hub.http, SMUGGLED, bearer, n=SMALL)
    post(hub.http, MEMBERS, None, status=401, n=SMALL)
    # and a client without a purpose is refused
    no_purpose = hub.client("two-purposes", roles=["civil-affairs"], purposes=["assistance-review", "comparison"])
    post(hub.http, MEMBERS, hub.token(no_purpose), status=400, n=SMALL)
    after = scrape(hub.http)

    # then each is counted under its operation, the one of its own naming as `other`, with its outcome
    def counted(operation: str, outcome: str) -> float:
        labels = {"route": "/graphql", "operation": operation, "outcome": outcome}
        return value(after, "aidgraph_requests_total", **labels) - value(before, "aidgraph_requests_total", **labels)

    assert counted("HouseholdPicture", "ok") == 1
    assert counted("Members", "ok") == 1
    assert counted("other", "ok") == 1
    assert counted("other", "unauthenticated") == 1
    assert counted("other", "refused") == 1  # refused before the document is read
    # and the latency of each is observed
    duration = {"route": "/graphql", "operation": "Members"}
    assert (
        value(after, "aidgraph_request_duration_seconds_count", **duration)
        - value(before, "aidgraph_request_duration_seconds_count", **duration)
        == 1
    )
    # and no label anywhere holds what the client chose
    labels = {label for _, pairs in after for _, label in pairs}
    assert not any(SMALL_HEAD in label for label in labels)
    assert {outcome for name, pairs in after for key, outcome in pairs if key == "outcome"} <= set(metrics.OUTCOMES)


def test_the_audit_writer_and_the_store_pool_are_measured(hub: Hub) -> None:
    # given a scrape before
    bearer = hub.as_role("civil-affairs", "assistance-review")
    before = scrape(hub.http)
    # when a request that discloses personal data is answered (its event written)
    post(hub.http, MEMBERS, bearer, n=SMALL)
    after = scrape(hub.http)
    # then one more group commit is counted, and the pool's connections are shown, none left checked out
    batches = "aidgraph_audit_batch_events_count"
    assert value(after, batches) - value(before, batches) >= 1
    assert value(after, "aidgraph_audit_waiting_events") == 0
    assert value(after, "aidgraph_store_connections", state="checked_out") == 0
    assert value(after, "aidgraph_store_connections", state="idle") >= 1


def test_a_limit_refusal_is_counted_by_its_reason_and_no_other_word(hub: Hub) -> None:
    # given a scrape before
    before = scrape(hub.http)
    # when a limit refuses twice for a known reason, and once for a reason that is not one of the set
    metrics.refused("requests_per_client")
    metrics.refused("requests_per_client")
    metrics.refused(f"client {SMALL_HEAD}")
    after = scrape(hub.http)
    # then the known reason is counted as itself, the other as `other`
    refusals = "aidgraph_rate_limit_refusals_total"
    assert value(after, refusals, reason="requests_per_client") - value(before, refusals, reason="requests_per_client")
    assert value(after, refusals, reason="other") - value(before, refusals, reason="other") == 1
    assert not any(SMALL_HEAD in label for _, pairs in after for _, label in pairs)


@pytest.mark.parametrize(
    ("peer", "headers"),
    [
        (("203.0.113.9", 40000), {}),  # another machine
        (("10.1.2.3", 40000), {}),  # a private network is not the hub's own machine either
        (LOOPBACK, {"X-Forwarded-For": "203.0.113.9"}),  # relayed by a proxy on the hub's machine
        (LOOPBACK, {"Forwarded": "for=203.0.113.9"}),
        (("testclient", 40000), {}),  # no address at all
    ],
)
def test_metrics_are_refused_to_a_caller_from_elsewhere(
    hub: Hub, peer: tuple[str, int], headers: dict[str, str]
) -> None:
    # given the hub as seen from another address, or through a proxy, when its metrics are asked for
    http = TestClient(hub.http.app, client=peer)
    response = http.get("/metrics", headers=headers)
    # then they are refused, saying why, and nothing of them is shown
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "aidgraph_" not in response.text


def test_the_networks_allowed_to_scrape_are_a_setting(hub: Hub) -> None:
    # given a hub that lets its monitoring network scrape instead of loopback
    settings = Settings.from_mapping(
        {
            "AIDGRAPH_DATABASE_URL": hub.engine.url.render_as_string(hide_password=False),
            "AIDGRAPH_METRICS_NETWORKS": "10.1.0.0/16",
        }
    )
    app = create_app(settings)
    # when an address of that network asks, and one of another network, and loopback
    with TestClient(app, client=("10.1.2.3", 40000)) as monitoring:
        answered = monitoring.get("/metrics").status_code
    with TestClient(app, client=("10.2.0.1", 40000)) as elsewhere:
        refused = elsewhere.get("/metrics").status_code
    with TestClient(app, client=LOOPBACK) as local:
        local_refused = local.get("/metrics").status_code
    # then only the monitoring network is answered
    assert (answered, refused, local_refused) == (200, 403, 403)


def test_a_network_that_is_no_network_is_refused_naming_the_setting() -> None:
    assert Settings().metrics_networks == ("127.0.0.0/8", "::1/128")
    with pytest.raises(ValueError, match="AIDGRAPH_METRICS_NETWORKS"):
        Settings.from_mapping({"AIDGRAPH_METRICS_NETWORKS": "the monitoring host"})


def _counter_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("aidgraph-metrics-*/counter_*.db"))


@pytest.fixture(params=["sqlite"])  # one backend: how the workers count does not depend on the store
def world_on_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    with world_store(request, tmp_path) as (url, engine):
        yield url, register(engine, "civil-two", roles=["civil-affairs"], purposes=["assistance-review"])


def test_two_workers_answer_the_sum_of_both(tmp_path: Path, world_on_sqlite: tuple[str, str]) -> None:
    # given `aidgraph serve --workers 2` on loopback, on a store with a client
    url, secret = world_on_sqlite
    port = _free_port()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "AIDGRAPH_DATABASE_URL": url, "TMPDIR": str(temporary)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "aidgraph.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sent = 0
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx2.Client(base_url=base, timeout=10) as http:
            for _ in range(200):
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            bearer = token(http, "civil-two", secret)
        # when requests arrive on connections of their own until both workers have counted some
        while len(_counter_files(temporary)) < 2 and sent < 400:
            with httpx2.Client(base_url=base, timeout=10) as fresh:
                post(fresh, MEMBERS, bearer, n=SMALL)
            sent += 1
        workers_counting = len(_counter_files(temporary))
        for _ in range(10):  # and a few more, so that each worker has answered since the other first counted
            with httpx2.Client(base_url=base, timeout=10) as fresh:
                post(fresh, MEMBERS, bearer, n=SMALL)
            sent += 1
        # and the metrics are scraped, by whichever worker takes the connection
        scrapes = []
        for _ in range(4):
            with httpx2.Client(base_url=base, timeout=10) as fresh:
                scrapes.append(scrape(fresh))
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    # then both workers counted, and every scrape shows all the requests of both
    assert workers_counting == 2, output
    labels = {"route": "/graphql", "operation": "Members", "outcome": "ok"}
    assert [value(samples, "aidgraph_requests_total", **labels) for samples in scrapes] == [sent] * 4
    # and the directory of the workers' files is gone with the server
    assert list(temporary.glob("aidgraph-metrics-*")) == []
    # and the workers logged JSON lines, one access line per request by the hub, none by uvicorn itself
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in logged if line["logger"] == "aidgraph.access" and line["path"] == "/graphql"]
    assert len(access) == sent
    assert not any('"POST /graphql HTTP/1.1"' in line for line in output.splitlines())


DISABILITY = "query Certificate($id: String!) { person(idNumber: $id) { name disability { certificate { grade } } } }"


@pytest.fixture(params=BACKENDS)
def away_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """A hub reading disability live from a database that refuses every connection."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "departments:\n  disability: {url: 'postgresql://nobody@127.0.0.1:1/none', timeout_seconds: 2}\n",
        encoding="utf-8",
    )
    with world_store(request, tmp_path) as (url, engine):
        settings = Settings(database_url=url, token_rate_limit=0, sources_file=sources)
        with TestClient(create_app(settings), client=LOOPBACK) as http:
            yield Hub(http, engine)


def test_a_live_source_whose_breaker_opens_shows_as_down_and_open(away_hub: Hub) -> None:
    # given a scrape while the department has not yet been asked
    bearer = away_hub.as_role("civil-affairs", "assistance-review")
    before = scrape(away_hub.http)
    # when five requests in a row find the department away
    for _ in range(5):
        answered = post(away_hub.http, DISABILITY, bearer, id=SMALL_HEAD)
        assert answered["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    after = scrape(away_hub.http)

    # then the scrape before showed it up and closed, the one after down and its breaker open
    assert value(before, "aidgraph_source_up", department="disability") == 1
    assert value(before, "aidgraph_source_breaker_workers", department="disability", state="closed") == 1
    assert value(after, "aidgraph_source_up", department="disability") == 0
    assert value(after, "aidgraph_source_breaker_workers", department="disability", state="open") == 1
    assert value(after, "aidgraph_source_breaker_workers", department="disability", state="closed") == 0
