"""A leak scan over the log: what goes wrong in a request is logged without the query or the person.

Requests that fail in every way the hub knows (bad documents and variables carrying resident ids,
a live department that fails, a store table that is gone, a bug whose exception quotes an id, a
bad token, an audit trail that cannot be written) run through the secured app while every logger
records at DEBUG; then no log record may hold a resident id (18 or 15 digits), a phone or a name
of the test world, nor any of the query text. SQLAlchemy's own echo is the one exception: it
prints statements at INFO (scanned here, with their parameters hidden by the hub's engines) and
every row it reads at DEBUG, a switch for debugging the store that is never on in service.
"""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

import schema
from adapters import idnumber
from aidgraph.app import create_app
from aidgraph.db import create_engine
from aidgraph.execution import ExecutionThreads
from aidgraph.graphql_gate import OpenGate, Operation
from aidgraph.graphql_http import GraphQLEndpoint
from aidgraph.logs import JsonLines
from aidgraph.settings import Settings
from auth.access import Access
from auth.audit import AuditUnavailable
from tests.access import world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub
from tests.test_live_sources import DISABILITY_TABLES, MEDICAL_TABLES, department_database
from tests.world import LARGE_MEMBERS, SMALL_HEAD, SMALL_SPOUSE
from tools.pgserver import ThrowawayPostgres

IDS = [SMALL_HEAD, SMALL_SPOUSE, *(member[0] for member in LARGE_MEMBERS)]
NAMES = ["欧阳明", "李芳", *(f"张{given}" for given in "伟娜军丽强敏杰婷")]
PHONES = ["13805951234", *(f"1380595{number:04d}" for number in range(len(LARGE_MEMBERS)))]
HOLDER = LARGE_MEMBERS[2][0]  # holds a disability certificate
WRONG_CHECK = SMALL_HEAD[:17] + ("0" if SMALL_HEAD[17] != "0" else "1")

# Each document carries a marker of its own (an alias), so that any piece of its text in the log is found.
UNKNOWN_FIELD = f'{{ leakProbeOne: person(idNumber: "{SMALL_HEAD}") {{ nmae }} }}'
SYNTAX_ERROR = f'{{ leakProbeTwo: person(idNumber: "{SMALL_SPOUSE}") {{ name }}'
BAD_ID_LITERAL = f'query Literal {{ leakProbeThree: person(idNumber: "{WRONG_CHECK}") {{ name }} }}'
BY_VARIABLE = "query ByVariable($id: String!) { leakProbeFour: person(idNumber: $id) { name phone } }"
LIVE = """query Live($id: String!) {
  leakProbeFive: person(idNumber: $id) {
    name phone disability { certificate { grade } } medical { settlements { settlementId } }
  }
}"""
HOUSING = """query Housing($id: String!) {
  leakProbeSix: person(idNumber: $id) { name housing { assessments { grade } } }
}"""
MARKERS = ["leakProbe", "nmae", "idNumber: $id", "disability { certificate"]
DOCUMENTS = [UNKNOWN_FIELD, SYNTAX_ERROR, BAD_ID_LITERAL, BY_VARIABLE, LIVE, HOUSING]


def _forbidden() -> list[str]:
    ids = [*IDS, WRONG_CHECK]
    spellings = [*ids, *(id_number.lower() for id_number in ids), *(idnumber.to_legacy(i) for i in IDS)]
    return [*spellings, *NAMES, *PHONES, *MARKERS, *(document.strip() for document in DOCUMENTS)]


def _texts(record: logging.LogRecord) -> Iterator[str]:
    """Everything of a record a handler could write: message, arguments, exception, stack, extras."""
    yield record.getMessage()
    yield repr(record.msg)
    yield repr(record.args)
    yield record.exc_text or ""
    if record.exc_info and record.exc_info[1] is not None:
        yield "".join(traceback.format_exception(record.exc_info[1]))
    yield record.stack_info or ""
    yield repr(vars(record))
    yield JsonLines().format(record)  # the line as a served hub writes it


def leaks(records: list[logging.LogRecord], forbidden: list[str]) -> list[tuple[str, str]]:
    """(logger, value) for every forbidden value found in a record."""
    return [
        (record.name, value)
        for record in records
        for text in _texts(record)
        for value in forbidden
        if value and value in text
    ]


@pytest.fixture
def every_logger_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.INFO if name.startswith("sqlalchemy.engine") else logging.DEBUG, logger=name)
    caplog.set_level(logging.DEBUG)  # last: it also sets the capturing handler's level, which each call replaces
    return caplog


def test_the_scan_finds_what_is_planted(every_logger_at_debug: pytest.LogCaptureFixture) -> None:
    # given log records that carry an id, a 15-digit id, a name, a phone and a query, each in another part
    log = logging.getLogger("aidgraph.planted")
    log.warning("looked up %s", SMALL_HEAD)
    log.info("legacy %s", idnumber.to_legacy(LARGE_MEMBERS[0][0]))
    log.debug(NAMES[1])
    try:
        raise KeyError(PHONES[0])
    except KeyError:
        log.exception("failed")
    log.error("request failed", extra={"document": BY_VARIABLE})
    # when scanned, then each is found where it was planted
    found = leaks(every_logger_at_debug.records, _forbidden())
    assert {value for _, value in found} >= {
        SMALL_HEAD,
        idnumber.to_legacy(LARGE_MEMBERS[0][0]),
        NAMES[1],
        PHONES[0],
        "leakProbe",
    }


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path, postgres: ThrowawayPostgres) -> Iterator[Hub]:
    # given the secured hub on the tiny world, medical read live from a database without its `jsxx`,
    # and disability from one whose certificate for the holder is malformed (its fault quotes the id)
    medical = department_database(postgres, MEDICAL_TABLES.split(";")[0], [])
    disability = department_database(
        postgres,
        DISABILITY_TABLES,
        [
            (
                "INSERT INTO cjr VALUES (:id, :cert, '4', 2, DATE '2021-06-01', DATE '2031-05-31')",
                {"id": HOLDER, "cert": HOLDER + "4"},
            )
        ],
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"departments:\n  medical: {{url: '{medical}'}}\n  disability: {{url: '{disability}'}}\n")
    with world_store(request, tmp_path) as (url, engine):
        settings = Settings(database_url=url, sources_file=sources, token_rate_limit=0)
        with TestClient(create_app(settings)) as http:
            yield Hub(http, engine)


def _post(hub: Hub, bearer: str, query: str, variables: dict[str, Any] | None = None, **body: Any) -> Any:
    response = hub.http.post(
        "/graphql",
        json={"query": query, "variables": variables, **body},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    return response.status_code, response.json()


def _request_ids(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["requestId"] for error in body.get("errors", []) if "requestId" in error["extensions"]]


def _failing_normalize(text: str) -> str:
    raise RuntimeError(f"no canonical form for {text} ({NAMES[3]}, {PHONES[3]})")


def test_no_log_record_holds_a_person_or_the_query(
    hub: Hub, every_logger_at_debug: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    bearer = hub.as_role("civil-affairs", "assistance-review")
    caplog = every_logger_at_debug
    caplog.clear()
    # when documents with ids in literals and in variables are refused, in validation, parsing and resolving
    answers = [
        _post(hub, bearer, UNKNOWN_FIELD),
        _post(hub, bearer, SYNTAX_ERROR),
        _post(hub, bearer, BAD_ID_LITERAL),
        _post(hub, bearer, BY_VARIABLE, {"id": [SMALL_HEAD, PHONES[0]]}),
    ]
    assert all(status == 200 and body["errors"] for status, body in answers), answers
    # and a request names an operation the document does not hold, after an id
    status, unknown = _post(hub, bearer, BY_VARIABLE, {"id": SMALL_SPOUSE}, operationName=f"Q{LARGE_MEMBERS[1][0]}")
    assert status == 200 and unknown["errors"][0]["extensions"]["code"] == "BAD_REQUEST"  # plain JSON: 200
    # and a live department fails, and another serves a row it cannot accept, the rest answered
    status, failed_source = _post(hub, bearer, LIVE, {"id": HOLDER})
    assert [error["extensions"]["code"] for error in failed_source["errors"]] == ["SOURCE_UNAVAILABLE"]
    assert failed_source["data"]["leakProbeFive"]["disability"] == {"certificate": None}
    # and a store table is gone (an internal error, whose statement carried the id)
    with hub.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE housing_assessment"))
    status, internal = _post(hub, bearer, HOUSING, {"id": SMALL_HEAD})
    assert [error["extensions"]["code"] for error in internal["errors"]] == ["INTERNAL_SERVER_ERROR"]
    # and a bug whose exception quotes the id it was given
    with monkeypatch.context() as patch:
        patch.setattr(idnumber, "normalize", _failing_normalize)
        status, bug = _post(hub, bearer, BY_VARIABLE, {"id": LARGE_MEMBERS[3][0]})
    assert [error["extensions"]["code"] for error in bug["errors"]] == ["INTERNAL_SERVER_ERROR"]
    # and a token that is no token, carrying an id
    refused = hub.http.post("/graphql", json={"query": BY_VARIABLE}, headers={"Authorization": f"Bearer {SMALL_HEAD}"})
    assert refused.status_code == 401
    # and an answer whose audit event cannot be written (its subjects are ids)
    with hub.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_event RENAME TO audit_event_gone"))
    status, unaudited = _post(hub, bearer, BY_VARIABLE, {"id": SMALL_HEAD})
    assert status == 503 and unaudited["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    # then the failures were logged, under the request ids the clients were given
    messages = [record.getMessage() for record in caplog.records]
    [source_id], [internal_id], [bug_id] = _request_ids(failed_source), _request_ids(internal), _request_ids(bug)
    assert any(f"request={source_id}" in line and 'relation "jsxx" does not exist' in line for line in messages)
    assert "disability.cjr: 1 rows skipped, not valid in the department's format" in messages
    keyed = r"document=hmac-sha256:[0-9a-f]{64}"  # the audit trail's keyed hash, never the text
    client = "client=civil-affairs-assistance-review"  # the caller's client id, once its token is verified
    assert any(
        re.search(rf"request={internal_id} {client} operation=Housing {keyed}: unexpected", line) for line in messages
    )
    assert any(
        re.search(rf"request={bug_id} {client} operation=ByVariable {keyed}: unexpected RuntimeError", line)
        for line in messages
    )
    assert any("the audit event could not be written" in line for line in messages)
    # and no record holds a person of the world or any of the documents
    assert leaks(caplog.records, _forbidden()) == []


def test_a_failed_source_is_in_the_access_line_under_the_id_its_client_was_given(
    hub: Hub, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    # given a client, when it asks for a person whose live department fails
    bearer = hub.as_role("civil-affairs", "assistance-review")
    every_logger_at_debug.clear()
    status, failed_source = _post(hub, bearer, LIVE, {"id": HOLDER})
    [request_id] = set(_request_ids(failed_source))
    # then the request's one access line carries that id, the code, the client and the operation, no person
    [access] = [record for record in every_logger_at_debug.records if record.name == "aidgraph.access"]
    line = orjson.loads(JsonLines().format(access))
    assert (line["request"], line["codes"], line["outcome"]) == (request_id, ["SOURCE_UNAVAILABLE"], "partial")
    assert (line["client"], line["operation"]) == ("civil-affairs-assistance-review", "Live")
    assert leaks(every_logger_at_debug.records, _forbidden()) == []


class _AuditFailingGate(OpenGate):
    """Admits everyone; the audit write then fails, for a cause whose text quotes the event's subject."""

    async def settle(self, request: Request, operation: Operation, access: Access, errors: list) -> dict:
        cause = f"duplicate key value: Key (subject)=({SMALL_HEAD}) already exists"
        try:
            raise RuntimeError(cause)
        except RuntimeError as error:
            raise AuditUnavailable("the audit event could not be written: RuntimeError") from error


def test_an_audit_failure_is_logged_without_its_causes_text(
    tmp_path: Path, every_logger_at_debug: pytest.LogCaptureFixture
) -> None:
    # given the endpoint behind a gate whose audit write fails, its cause quoting a resident id
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
        async with ExecutionThreads(1) as threads:
            yield {"engine": engine, "live_sources": {}, "threads": threads}
        engine.dispose()

    endpoint = GraphQLEndpoint(schema.create_schema(), _AuditFailingGate())
    app = Starlette(routes=[Route("/graphql", endpoint.handle, methods=["POST"])], lifespan=lifespan)
    # when a request is answered
    with TestClient(app) as http:
        response = http.post("/graphql", json={"query": "query Typename { leakProbeSeven: __typename }"})
    # then it is refused, and the log names the failure by its types, without the cause's text
    assert response.status_code == 503
    [line] = [record.getMessage() for record in every_logger_at_debug.records if record.name == "aidgraph.graphql_http"]
    assert line.startswith("request=") and " operation=Typename: the audit event could not be written" in line
    assert "builtins.RuntimeError" in line
    assert leaks(every_logger_at_debug.records, _forbidden()) == []
