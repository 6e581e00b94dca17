"""eligibleStudents and the term export through the secured hub, on SQLite and PostgreSQL.

The tiny world's large household is registered poor, monitored and low-income; two of its children
are enrolled in 2026-2027-1 (one with aid granted). The rules themselves are tested in
tests/store/test_students.py; here: the entry point, its policy, regions, pagination and the export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph import cli
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.tables import audit_event
from tests.access import post, world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub
from tests.world import LARGE_MEMBERS, STUDENT

TERM = "2026-2027-1"
OLDER = LARGE_MEMBERS[4][0]  # senior secondary, no aid yet
REASONS = ["LOW_INCOME", "MONITORED", "REGISTERED_POOR"]
ELIGIBLE = """query Eligible($region: String!, $term: String!, $first: Int, $after: String, $stage: Stage) {
  eligibleStudents(region: $region, term: $term, first: $first, after: $after, stage: $stage) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      student { idNumber name }
      stage schoolName aidGranted
      reasons { code department table sourceRecord asOf }
    } }
  }
}"""


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("students")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


def _eligible(hub: Hub, bearer: str, **variables: object) -> dict:
    body = post(hub.http, ELIGIBLE, bearer, **{"region": "3505", "term": TERM, **variables})
    assert "errors" not in body, body
    return dict(body["data"]["eligibleStudents"])


def test_student_aid_sees_every_eligible_student_with_identity_stage_and_reasons(hub: Hub) -> None:
    # when the student-aid system asks who qualifies this term
    found = _eligible(hub, hub.as_role("student-aid", "student-aid"))
    # then both enrolled children are listed, by id, with every reason and whether aid was granted
    assert found["totalCount"] == 2
    nodes = [edge["node"] for edge in found["edges"]]
    assert [node["student"]["idNumber"] for node in nodes] == sorted([STUDENT, OLDER])
    by_id = {node["student"]["idNumber"]: node for node in nodes}
    assert by_id[STUDENT]["aidGranted"] is True and by_id[OLDER]["aidGranted"] is False
    assert (by_id[STUDENT]["stage"], by_id[STUDENT]["schoolName"]) == ("JUNIOR_SECONDARY", "南安市实验小学")
    for node in nodes:
        assert [reason["code"] for reason in node["reasons"]] == REASONS
        assert {reason["department"] for reason in node["reasons"]} == {"civil_affairs", "poverty"}
        assert all(reason["sourceRecord"] and reason["asOf"] for reason in node["reasons"])


def test_pages_are_stable_and_complete(hub: Hub) -> None:
    bearer = hub.as_role("student-aid", "student-aid")
    first = _eligible(hub, bearer, first=1)
    second = _eligible(hub, bearer, first=1, after=first["pageInfo"]["endCursor"])
    assert first["pageInfo"]["hasNextPage"] is True and second["pageInfo"]["hasNextPage"] is False
    ids = [page["edges"][0]["node"]["student"]["idNumber"] for page in (first, second)]
    assert ids == sorted([STUDENT, OLDER])


def test_the_stage_filter(hub: Hub) -> None:
    found = _eligible(hub, hub.as_role("student-aid", "student-aid"), stage="SENIOR_SECONDARY")
    assert [edge["node"]["student"]["idNumber"] for edge in found["edges"]] == [OLDER]
    assert found["totalCount"] == 1


def test_outside_its_regions_nobody_qualifies(hub: Hub) -> None:
    found = _eligible(hub, hub.as_role("student-aid", "student-aid", regions=["350524"]))
    assert found == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}


def test_a_count_kept_for_the_city_is_never_told_to_a_caller_of_another_region(hub: Hub) -> None:
    # given the city's count asked (and kept) by a city-wide client
    assert _eligible(hub, hub.as_role("student-aid", "student-aid"))["totalCount"] == 2
    # when clients of one county each ask for the whole city
    anxi = _eligible(hub, hub.as_role("student-aid", "student-aid", regions=["350524"]))
    nanan = _eligible(hub, hub.as_role("student-aid", "student-aid", regions=["350583"]))
    # then each is told the count of its own county only
    assert anxi["totalCount"] == 0 and nanan["totalCount"] == 2


def test_the_list_is_refused_outside_the_student_aid_purpose(hub: Hub) -> None:
    # when the housing department asks for its own purpose (being on the list reveals dibao, disability, poverty)
    body = post(hub.http, ELIGIBLE, hub.as_role("housing", "assistance-review"), region="3505", term=TERM)
    # then nothing is listed, not even a count
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "student-aid" in body["errors"][0]["message"]


def test_roles_without_a_grant_see_no_reasons_and_the_paths_are_listed(hub: Hub) -> None:
    # when a housing system asks for the student-aid purpose (its policy has no rule for students' reasons)
    body = post(hub.http, ELIGIBLE, hub.as_role("housing", "student-aid"), region="3505", term=TERM)
    # then the students are there, their reasons and aid withheld, and the answer says so once per path
    nodes = [edge["node"] for edge in body["data"]["eligibleStudents"]["edges"]]
    assert len(nodes) == 2
    assert all(node["reasons"] is None and node["aidGranted"] is None for node in nodes)
    paths = {entry["path"] for entry in body["extensions"]["withheld"]}
    assert {"eligibleStudents.edges.node.reasons", "eligibleStudents.edges.node.aidGranted"} <= paths


def test_a_bad_term_is_refused_saying_why(hub: Hub) -> None:
    body = post(hub.http, ELIGIBLE, hub.as_role("student-aid", "student-aid"), region="3505", term="2026-1")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith("term:")


# --- the export ---------------------------------------------------------------------------------------


def _events(engine: sa.Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


def test_the_export_streams_the_whole_term_and_is_audited(hub: Hub) -> None:
    bearer = hub.as_role("student-aid", "student-aid")
    before = len(_events(hub.engine))
    response = hub.http.get(
        "/students/export",
        params={"region": "350583", "term": TERM, "format": "ndjson"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [row["id_number"] for row in rows] == sorted([STUDENT, OLDER])
    assert all(row["reasons"] == REASONS for row in rows)
    events = _events(hub.engine)[before:]
    assert [(event["outcome"], event["client_id"], len(event["subjects"])) for event in events] == [
        ("export", "student-aid-student-aid", 2)
    ]


def test_the_export_as_csv(hub: Hub) -> None:
    bearer = hub.as_role("student-aid", "student-aid")
    response = hub.http.get(
        "/students/export",
        params={"region": "3505", "term": TERM, "format": "csv"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["id_number"] for row in rows] == sorted([STUDENT, OLDER])
    assert rows[0]["reasons"] == ";".join(REASONS)
    assert {row["aid_granted"] for row in rows} == {"0", "1"}


@pytest.mark.parametrize(
    ("params", "bearer_role", "status", "code"),
    [
        ({"region": "3505", "term": TERM}, None, 401, "UNAUTHENTICATED"),
        ({"region": "3505", "term": TERM}, ("housing", "assistance-review"), 403, "FORBIDDEN"),
        ({"region": "3505", "term": "next term"}, ("student-aid", "student-aid"), 400, "BAD_USER_INPUT"),
        ({"region": "35x", "term": TERM}, ("student-aid", "student-aid"), 400, "BAD_USER_INPUT"),
        ({"region": "3505", "term": TERM, "format": "xlsx"}, ("student-aid", "student-aid"), 400, "BAD_USER_INPUT"),
    ],
)
def test_the_export_refuses_saying_why(
    hub: Hub, params: dict, bearer_role: tuple[str, str] | None, status: int, code: str
) -> None:
    headers = {"Authorization": f"Bearer {hub.as_role(*bearer_role)}"} if bearer_role else {}
    response = hub.http.get("/students/export", params=params, headers=headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"]["code"] == code


def test_the_export_command_writes_csv_and_is_audited(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", hub.engine.url.render_as_string(hide_password=False))
    out = tmp_path / "students.csv"
    before = len(_events(hub.engine))
    command = ["students", "export", "--region", "3505", "--term", TERM, "--out", str(out), "--by", "王敏"]
    assert cli.main(command) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [row["id_number"] for row in rows] == sorted([STUDENT, OLDER])
    events = _events(hub.engine)[before:]
    assert [(event["outcome"], event["operation"]) for event in events] == [("export", "students export (cli)")]
    assert events[0]["actor"] == "王敏"  # the person who ran it is named


def test_the_export_command_refuses_a_client_without_the_purpose(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", hub.engine.url.render_as_string(hide_password=False))
    client_id = hub.client("housing-review-only", roles=["housing"], purposes=["assistance-review"])
    command = ["students", "export", "--region", "3505", "--term", TERM, "--client", client_id]
    assert cli.main(command) != 0


def test_the_export_follows_each_roles_policy(hub: Hub) -> None:
    # given the education bureau, whose policy masks phones (a field an export row does not carry)
    bearer = hub.as_role("education", "student-aid")
    # when it exports the term
    response = hub.http.get(
        "/students/export",
        params={"region": "3505", "term": TERM, "format": "ndjson"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    # then it gets the students with their reasons, as its own policy allows
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [row["id_number"] for row in rows] == sorted([STUDENT, OLDER])
    assert all(row["reasons"] == REASONS and row["name"] for row in rows)
