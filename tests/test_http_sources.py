"""Departments read live over their HTTP APIs: a real server on loopback, answers identical to their CSV
exports ingested, bad rows, timeouts, failures and the circuit breaker, keys in calls of at most 500."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters.breaker import CircuitBreaker, SourceHealth
from adapters.catalog import DEPARTMENTS
from adapters.http_source import KEYS_PER_CALL, HttpSource
from adapters.ingest import ingest_folder
from adapters.sources import SourceUnavailable
from adapters.store import LoadRequest
from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.department_api import DepartmentApi, serving
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD, make_id, write_world

HTTP_DEPARTMENTS = ("medical", "housing", "disability")  # housing: its GBK export arrives as UTF-8 JSON
AS_OF = "2026-11-30T18:00:00+08:00"
EXPORTED_AT = dt.datetime.fromisoformat(AS_OF).timestamp()

PICTURE = """
query Picture($householdNumber: String!) {
  household(householdNumber: $householdNumber) {
    householdNumber
    housing {
      assessments { assessmentNumber idNumber householdNumber assessedOn grade assessedBy source { ...from } }
      renovations { projectNumber idNumber kind area subsidy status approvedOn remarks source { ...from } }
      support { kind monthlyAmount startDate endDate source { ...from } }
    }
    members {
      idNumber name
      medical {
        insurance { idNumber year scheme personalContribution subsidisedAmount subsidyCategory source { ...from } }
        settlements {
          settlementId idNumber kind fromDate toDate totalCost basicInsurancePaid criticalIllnessPaid
          medicalAssistancePaid outOfPocket diagnosisCode source { ...from }
        }
      }
      housing { assessments { grade } renovations { status } support { kind source { ...from } } }
      disability {
        certificate { certificateNumber category grade issuedOn validUntil source { ...from } }
        subsidies { kind monthlyAmount startDate endDate source { ...from } }
      }
    }
  }
}
fragment from on Source { department table recordKey asOf }
"""

PERSON = """
query Person($idNumber: String!) {
  person(idNumber: $idNumber) {
    name
    medical { insurance { year } settlements { settlementId outOfPocket } }
    civilAffairs { extremePoverty { monthlyAmount } }
  }
}
"""


class FakeClock:
    """The breaker's clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path: Path) -> Path:
    # given the departments' exports, written at the time their APIs will give as their as_of
    root = write_world(tmp_path / "world")
    for name in HTTP_DEPARTMENTS:
        for path in (root / name).iterdir():
            os.utime(path, (EXPORTED_AT, EXPORTED_AT))
    return root


@pytest.fixture
def medical_api(world: Path) -> Iterator[DepartmentApi]:
    api = DepartmentApi.from_exports(DEPARTMENTS["medical"], world / "medical")
    api.as_of = AS_OF
    with serving(api):
        yield api


def write_sources(folder: Path, apis: dict[str, DepartmentApi], **settings: object) -> Path:
    entries = "".join(
        f"  {name}: {{kind: http, base_url: '{api.url}'"
        + "".join(f", {key}: {value}" for key, value in settings.items())
        + "}\n"
        for name, api in apis.items()
    )
    path = folder / "sources.yaml"
    path.write_text(f"departments:\n{entries}")
    return path


def hub(store_url: str, sources: Path | None) -> TestClient:
    return TestClient(create_app(Settings(database_url=store_url, sources_file=sources), open_access=True))


def post(client: TestClient, document: str, **variables: str) -> dict:
    response = client.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def health(client: TestClient, department: str) -> SourceHealth:
    return client.app_state["live_sources"][department].health()


def test_records_over_http_are_those_of_the_same_rows_ingested_from_csv(
    store_url: str, engine: sa.Engine, world: Path, tmp_path: Path
) -> None:
    # given every department's export ingested into the store
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    # and medical, housing and disability also offering the same rows over their HTTP APIs
    apis = {name: DepartmentApi.from_exports(DEPARTMENTS[name], world / name) for name in HTTP_DEPARTMENTS}
    with contextlib.ExitStack() as running:
        for api in apis.values():
            api.as_of = AS_OF
            running.enter_context(serving(api))
        sources = write_sources(tmp_path, apis)
        # when both households' pictures are asked of a hub reading the store and of one reading the APIs
        with hub(store_url, None) as from_store, hub(store_url, sources) as over_http:
            stored = [post(from_store, PICTURE, householdNumber=number) for number in (SMALL, LARGE)]
            live = [post(over_http, PICTURE, householdNumber=number) for number in (SMALL, LARGE)]
    # then the answers are the same, field for field, down to each record's key and as-of time
    assert "errors" not in stored[0] and "errors" not in stored[1], stored
    assert live == stored
    settlement = stored[0]["data"]["household"]["members"][0]["medical"]["settlements"][0]
    assert settlement["source"] == {
        "department": "medical",
        "table": "jsxx",
        "recordKey": "JS0001",
        "asOf": "2026-11-30T10:00:00+00:00",
    }
    assert stored[0]["data"]["household"]["housing"]["renovations"][0]["remarks"] == "墙体加固"
    # and the live answers did come from the APIs, each table asked by the column it is looked up by
    asked = {(call.table, call.by) for api in apis.values() for call in api.calls}
    assert {("jsxx", "sfzh"), ("cbxx", "sfzh"), ("wfgz", "hh"), ("wfgz", "sfzh"), ("cjr", "sfzh")} <= asked


def test_a_row_that_fails_validation_is_left_out_and_reported_without_its_values(
    store_url: str,
    engine: sa.Engine,
    world: Path,
    tmp_path: Path,
    medical_api: DepartmentApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given the registry ingested, and a medical API answering, beside the head's good settlement,
    # one whose kind is unknown and whose date is no date, and one row that is not an object
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry")
    bad = dict(medical_api.tables["jsxx"][0], jsid="JSBAD", lx="7", ryrq="2026")
    medical_api.extra_rows["jsxx"] = [bad, SMALL_HEAD]
    # when the head is asked for
    with hub(store_url, write_sources(tmp_path, {"medical": medical_api})) as client, caplog.at_level(logging.INFO):
        body = post(client, PERSON, idNumber=SMALL_HEAD)
        health_after = health(client, "medical")
    # then the good settlement is served, the bad rows are not, and the answer has no error
    assert "errors" not in body, body
    assert body["data"]["person"]["medical"]["settlements"] == [{"settlementId": "JS0001", "outOfPocket": "1322.00"}]
    # and the log counts them, naming no value of theirs
    assert "medical.jsxx: 2 rows skipped, not valid in the department's format" in caplog.messages
    assert not [line for line in caplog.messages if SMALL_HEAD in line or "JSBAD" in line]
    # and the source's health counts them too
    assert health_after.rows_skipped == 2 and health_after.state == "closed"


def test_a_hanging_department_times_out_and_the_rest_is_answered(
    store_url: str,
    engine: sa.Engine,
    world: Path,
    tmp_path: Path,
    medical_api: DepartmentApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given the registry and civil affairs ingested, and a medical API that never answers
    for name in ("registry", "civil_affairs"):
        ingest_folder(engine, DEPARTMENTS[name], world / name)
    medical_api.behaviour = "hang"
    sources = write_sources(tmp_path, {"medical": medical_api}, read_timeout_seconds=0.2)
    # when a grandparent's picture is asked for
    with hub(store_url, sources) as client, caplog.at_level(logging.INFO):
        body = post(client, PERSON, idNumber=LARGE_MEMBERS[3][0])
    # then medical is SOURCE_UNAVAILABLE and the rest of the answer is there
    person = body["data"]["person"]
    assert person["name"] == "张丽" and person["medical"] is None
    assert person["civilAffairs"]["extremePoverty"] == [{"monthlyAmount": "1200.00"}]
    [error] = body["errors"]
    request_id = error["extensions"]["requestId"]
    assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "department": "medical", "requestId": request_id}
    assert error["message"] == f"the medical department's system did not answer (request id {request_id})"
    # and the log says it was the read timeout, under the request id
    [line] = [line for line in caplog.messages if request_id in line]
    assert "ReadTimeout (timeouts connect 2 s, read 0.2 s)" in line


def test_an_answer_trickling_in_is_cut_at_the_connect_and_read_timeouts_together(medical_api: DepartmentApi) -> None:
    # given a department that sends its answer a byte at a time, each byte well within the read timeout
    source = HttpSource(DEPARTMENTS["medical"], medical_api.url, connect_timeout=0.1, read_timeout=0.2)
    medical_api.behaviour = "trickle"
    # when it is asked
    with pytest.raises(SourceUnavailable) as failed:
        source.fetch_now([LoadRequest(DEPARTMENTS["medical"].file("jsxx"), "id_number", [SMALL_HEAD])])
    source.dispose()
    # then the call is given up, as a failure, when the whole answer is not in within both timeouts
    assert failed.value.detail == "jsxx lookup: no complete answer within connect 0.1 s, read 0.2 s"
    assert source.health().consecutive_failures == 1


def test_five_failures_open_the_breaker_and_the_sixth_request_never_reaches_the_department(
    store_url: str, engine: sa.Engine, world: Path, tmp_path: Path, medical_api: DepartmentApi
) -> None:
    # given a medical API that answers 500 to every call
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry")
    medical_api.behaviour = "fail"
    with hub(store_url, write_sources(tmp_path, {"medical": medical_api})) as client:
        # when the head is asked for five times
        first_five = [post(client, PERSON, idNumber=SMALL_HEAD) for _ in range(5)]
        after_five = health(client, "medical")
        # and a sixth time
        sixth = post(client, PERSON, idNumber=SMALL_HEAD)
    # then each of the five reached the department once and failed, and then the breaker was open
    assert len(medical_api.calls) == 5
    assert (after_five.state, after_five.consecutive_failures) == ("open", 5)
    assert after_five.last_failure_at is not None
    # and the sixth failed the same way for the client, without a call to the department
    for body in [*first_five, sixth]:
        assert [error["extensions"]["code"] for error in body["errors"]] == ["SOURCE_UNAVAILABLE"]
        assert body["data"]["person"]["name"] == "欧阳明"


def test_after_the_delay_one_trial_goes_through_and_its_success_closes_the_breaker(
    medical_api: DepartmentApi,
) -> None:
    # given a medical source whose breaker reads a clock of the test's, opened by five failures
    clock = FakeClock()
    source = HttpSource(DEPARTMENTS["medical"], medical_api.url, breaker=CircuitBreaker(clock=clock))
    settlements = [LoadRequest(DEPARTMENTS["medical"].file("jsxx"), "id_number", [SMALL_HEAD])]
    medical_api.behaviour = "fail"
    for _ in range(5):
        with pytest.raises(SourceUnavailable, match="did not answer"):
            source.fetch_now(settlements)
    medical_api.behaviour = "answer"
    # when it is asked just before the delay is over
    clock.now += 29.9
    with pytest.raises(SourceUnavailable) as refused:
        source.fetch_now(settlements)
    # then it fails at once, without a call, saying why in its detail
    assert len(medical_api.calls) == 5 and source.health().state == "open"
    assert refused.value.detail.startswith("circuit open after 5 consecutive failures")
    # when the delay is over: the breaker is half open, and the next request is let through
    clock.now += 0.1
    assert source.health().state == "half_open"
    [found] = source.fetch_now(settlements)
    # then it reached the department, and its success closed the breaker
    assert [record["settlement_id"] for record in found[SMALL_HEAD]] == ["JS0001"]
    assert len(medical_api.calls) == 6
    assert (source.health().state, source.health().consecutive_failures) == ("closed", 0)
    source.dispose()


def test_a_failed_trial_opens_the_breaker_again(medical_api: DepartmentApi) -> None:
    # given a medical source opened by five failures, and the delay over
    clock = FakeClock()
    source = HttpSource(DEPARTMENTS["medical"], medical_api.url, breaker=CircuitBreaker(clock=clock))
    settlements = [LoadRequest(DEPARTMENTS["medical"].file("jsxx"), "id_number", [SMALL_HEAD])]
    medical_api.behaviour = "fail"
    for _ in range(5):
        with pytest.raises(SourceUnavailable):
            source.fetch_now(settlements)
    clock.now += 30
    # when the trial fails too
    with pytest.raises(SourceUnavailable, match="did not answer"):
        source.fetch_now(settlements)
    # then the breaker is open again for a whole delay: the next request is refused without a call
    assert len(medical_api.calls) == 6 and source.health().state == "open"
    clock.now += 29.9
    with pytest.raises(SourceUnavailable):
        source.fetch_now(settlements)
    assert len(medical_api.calls) == 6
    source.dispose()


def test_a_500_a_malformed_body_and_a_4xx_are_each_a_failure(medical_api: DepartmentApi) -> None:
    source = HttpSource(DEPARTMENTS["medical"], medical_api.url)
    department = DEPARTMENTS["medical"]
    settlements = [LoadRequest(department.file("jsxx"), "id_number", [SMALL_HEAD])]
    # given a department answering 500, then a body cut short, then 404 for a table it does not serve
    details = []
    for behaviour, request in [
        ("fail", settlements),
        ("malformed", settlements),
        ("answer", [settlements[0]._replace(spec=department.file("cbxx"))]),
    ]:
        medical_api.behaviour = behaviour
        if behaviour == "answer":
            del medical_api.tables["cbxx"]
        # when it is asked
        with pytest.raises(SourceUnavailable) as failed:
            source.fetch_now(request)
        details.append(failed.value.detail)
    # then each call failed, and each counts towards opening the breaker
    assert details == ["jsxx lookup: HTTP 500", "jsxx lookup: the answer is not JSON", "cbxx lookup: HTTP 404"]
    assert (source.health().state, source.health().consecutive_failures) == ("closed", 3)
    source.dispose()


def test_more_than_500_keys_are_asked_in_calls_of_at_most_500(medical_api: DepartmentApi) -> None:
    # given 1,200 ids of people the department has never heard of, and the head's
    strangers = [_stranger(number) for number in range(1200)]
    source = HttpSource(DEPARTMENTS["medical"], medical_api.url)
    # when the settlements of all of them are asked for in one request
    [found] = source.fetch_now(
        [LoadRequest(DEPARTMENTS["medical"].file("jsxx"), "id_number", [*strangers, SMALL_HEAD])]
    )
    source.dispose()
    # then the department was called three times, none with more than 500 keys, every key asked once
    assert [len(call.keys) for call in medical_api.calls] == [KEYS_PER_CALL, KEYS_PER_CALL, 201]
    assert sorted(key for call in medical_api.calls for key in call.keys) == sorted([*strangers, SMALL_HEAD])
    # and the head's settlement was found among them
    assert [record["settlement_id"] for record in found[SMALL_HEAD]] == ["JS0001"]


def _stranger(number: int) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=number // 10)
    return make_id("350583", born.strftime("%Y%m%d"), number % 10, male=number % 2 == 0)
