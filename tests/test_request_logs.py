"""The request log: one access line per request, written by the hub, as JSON; a client's mistake is one
line, not a traceback; every line logged while a request is served names it; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.logs import JsonLines, PlainText, log_config
from aidgraph.settings import Settings
from auth.request_log import RequestLog, done_serving, serving
from tests.access import world_store
from tests.conftest import BACKENDS
from tests.schema.documents import HOUSEHOLD_PICTURE, PERSON
from tests.test_access import Hub
from tests.test_logs import WRONG_CHECK
from tests.world import SMALL, SMALL_HEAD

CLIENT = "civil-affairs-assistance-review"
HUB_LOGGERS = ("aidgraph", "auth", "schema", "resolvers", "adapters", "webhooks", "uvicorn")


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("request-logs")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def _hub_records(records: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the hub logged (the test's own HTTP client logs each request it sends, client-side)."""
    return [record for record in records.records if record.name.split(".")[0] in HUB_LOGGERS]


def _ask(hub: Hub, document: str, **variables: Any) -> Any:
    bearer = hub.as_role("civil-affairs", "assistance-review")
    return hub.http.post(
        "/graphql", json={"query": document, "variables": variables}, headers={"Authorization": f"Bearer {bearer}"}
    )


def test_each_request_has_one_access_line_naming_it(hub: Hub, records: pytest.LogCaptureFixture) -> None:
    # given a client with its token
    hub.as_role("civil-affairs", "assistance-review")
    records.clear()
    # when it asks for a household picture
    response = _ask(hub, HOUSEHOLD_PICTURE, householdNumber=SMALL)
    # then the hub wrote one line about it, a JSON object naming the request, its client, operation and document
    [line] = [json.loads(JsonLines().format(record)) for record in _hub_records(records)]
    assert response.status_code == 200
    assert line["logger"] == "aidgraph.access" and line["level"] == "info"
    assert line["request"] == response.headers["x-request-id"]
    assert (line["method"], line["path"], line["status"], line["outcome"]) == ("POST", "/graphql", 200, "ok")
    assert (line["client"], line["operation"]) == (CLIENT, "HouseholdPicture")
    assert line["document"].startswith("hmac-sha256:")
    assert isinstance(line["duration_ms"], float)
    assert "codes" not in line


def test_bad_user_input_is_one_line_not_a_traceback(hub: Hub, records: pytest.LogCaptureFixture) -> None:
    # given a client with its token
    hub.as_role("civil-affairs", "assistance-review")
    records.clear()
    # when it asks for a person by an id whose check character is wrong
    response = _ask(hub, PERSON, idNumber=WRONG_CHECK)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # then the hub logged one line, its access line, with the code and without the id or a traceback
    [record] = _hub_records(records)
    text = JsonLines().format(record)
    line = json.loads(text)
    assert record.exc_info is None and "\n" not in text and "Traceback" not in text
    assert (line["outcome"], line["codes"], line["operation"]) == ("partial", ["BAD_USER_INPUT"], "Person")
    assert WRONG_CHECK not in text


def test_the_access_line_names_the_route_never_the_path_as_sent(hub: Hub, records: pytest.LogCaptureFixture) -> None:
    # when a path the hub does not have is asked, carrying an id, and an unauthenticated request is refused
    assert hub.http.get(f"/households/{SMALL_HEAD}", params={"id": SMALL_HEAD}).status_code == 404
    assert hub.http.post("/graphql", json={"query": PERSON}, headers={"Authorization": "Bearer x"}).status_code == 401
    # then neither line holds the id; each says what came of it
    lines = [json.loads(JsonLines().format(record)) for record in _hub_records(records)]
    assert [(line["path"], line["status"], line["outcome"]) for line in lines] == [
        ("other", 404, "refused"),
        ("/graphql", 401, "unauthenticated"),
    ]
    assert not any(SMALL_HEAD in json.dumps(line) for line in lines)
    assert "client" not in lines[1]  # a token that is no token names no client


def test_a_line_logged_while_a_request_is_served_carries_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    # given a request being served, its client and document known
    request_log = RequestLog(request_id="0123456789abcdef", client=CLIENT)
    request_log.describe(query=PERSON, operation_name=None, operation="Person", document_key=b"k" * 32)
    caplog.set_level(logging.INFO)
    # when any logger writes a line, and one with an exception whose message quotes an id
    token = serving(request_log)
    try:
        logging.getLogger("some.library").info("retrying")
        try:
            raise KeyError(SMALL_HEAD)
        except KeyError:
            logging.getLogger("some.library").exception("failed")
        # (formatted here, as a handler formats a line when it is logged)
        retrying, failed = caplog.records[-2:]
        line, plain = json.loads(JsonLines().format(retrying)), PlainText().format(retrying)
        failure, failure_plain = JsonLines().format(failed), PlainText().format(failed)
    finally:
        done_serving(token)
    logging.getLogger("some.library").info("between requests")
    between = json.loads(JsonLines().format(caplog.records[-1]))
    # then the lines within the request name it, in JSON and in plain text; the exception is named by type
    assert {key: line[key] for key in ("request", "client", "operation")} == {
        "request": "0123456789abcdef",
        "client": CLIENT,
        "operation": "Person",
    }
    assert line["document"].startswith("hmac-sha256:")
    assert "request=0123456789abcdef client=civil-affairs-assistance-review operation=Person" in plain
    assert "builtins.KeyError" in json.loads(failure)["exception"]
    assert SMALL_HEAD not in failure and SMALL_HEAD not in failure_plain
    assert "request" not in between


def test_the_log_format_is_json_unless_plain_text_is_asked_for() -> None:
    # given the settings' default and a terminal's choice
    assert Settings().log_format == "json"
    assert Settings.from_mapping({"AIDGRAPH_LOG_FORMAT": "text"}).log_format == "text"
    with pytest.raises(ValueError, match="AIDGRAPH_LOG_FORMAT"):
        Settings.from_mapping({"AIDGRAPH_LOG_FORMAT": "xml"})
    # then the served hub's logging takes that formatter, and uvicorn's own access log writes nothing
    assert log_config("json")["formatters"]["hub"]["()"] == "aidgraph.logs.JsonLines"
    assert log_config("text")["formatters"]["hub"]["()"] == "aidgraph.logs.PlainText"
    assert log_config("json")["loggers"]["uvicorn.access"] == {"level": "CRITICAL", "propagate": False}
