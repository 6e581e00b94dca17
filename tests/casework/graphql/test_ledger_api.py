"""The casework ledgers through the secured /graphql, on SQLite and PostgreSQL: reads and the first mutations.

Region (an item outside does not exist, to the byte), purpose, roles (the poverty office reads alerts and
writes nothing), optimistic concurrency (the second writer gets CONFLICT with the current state), one
audit event per write naming the actor, X-Actor required, refused transitions, evidence values under
their source field's policy (an HIV code withheld like the diagnosis field), pagination and filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.audit import AuditUnavailable
from auth.audit.rows import select_stored_rows
from auth.audit.writer import AuditLog
from auth.tables import audit_event
from casework import lifecycle
from casework.tables import alert, casework_history, comparison_item
from tests.access import register, token, world_store
from tests.casework.graphql.ledger import NOW, make_alert, make_item, make_run, settlement
from tests.conftest import BACKENDS
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD

MINOR = LARGE_MEMBERS[6][0]  # born 2015: under 14
OUTSIDE_REGION = "350524101001"  # a county the Nanan caseworkers do not serve
RUN = """query Run($id: ID!, $rule: String, $status: String, $first: Int, $after: String) {
  comparisonRun(id: $id) { id region counts
    items(rule: $rule, status: $status, first: $first, after: $after) {
      edges { cursor node { id rule status version reasonCode
        household { householdNumber address } person { idNumber name }
        evidence { department table recordKey values }
        history { actor from to } } }
      pageInfo { hasNextPage endCursor } } } }"""
UPDATE_ITEM = """mutation Work($id: ID!, $status: String!, $version: Int!, $assignee: String, $reason: String,
  $programme: String, $coveredOn: Date) {
  updateComparisonItem(id: $id, status: $status, version: $version, assignee: $assignee, reasonCode: $reason,
    programme: $programme, coveredOn: $coveredOn) { id status version history { actor from to reasonCode } } }"""
ALERTS = """query Alerts($status: String, $kind: String, $overdue: Boolean) {
  alerts(region: "3505", status: $status, kind: $kind, overdue: $overdue) {
    edges { node { id kind status overdue dueAt version household { householdNumber }
      evidence { values } } } } }"""
UPDATE_ALERT = """mutation Ack($id: ID!, $status: String!, $version: Int!) {
  updateAlert(id: $id, status: $status, version: $version) { id status version } }"""


@dataclass
class Ledger:
    http: TestClient
    engine: sa.Engine
    run: int
    household_item: int
    hiv_item: int
    minor_item: int
    outside_item: int
    late_alert: int
    fresh_alert: int
    outside_run: int
    outside_alert: int
    tokens: dict[str, str]

    def ask(
        self, client: str, document: str, *, purpose: str, actor: str | None = None, **variables: Any
    ) -> tuple[int, dict[str, Any], bytes]:
        headers = {"Authorization": f"Bearer {self.tokens[client]}", "X-Purpose": purpose}
        if actor is not None:
            headers["X-Actor"] = actor
        response = self.http.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
        return response.status_code, response.json(), response.content

    def events(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            return [
                dict(row) for row in connection.execute(select_stored_rows().order_by(audit_event.c.seq)).mappings()
            ]

    def item(self, item_id: int) -> dict[str, Any]:
        with self.engine.connect() as connection:
            return dict(
                connection.execute(sa.select(comparison_item).where(comparison_item.c.id == item_id)).mappings().one()
            )


CLIENTS = {
    # client: (roles, purposes, regions)
    "nanan-civil": (["civil-affairs"], ["comparison", "case-management", "assistance-review"], ["350583"]),
    "city-poverty": (["poverty"], ["comparison", "case-management"], ["3505"]),
}


@pytest.fixture(scope="module", params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    with world_store(request, tmp_path_factory.mktemp("ledger")) as (url, engine):
        run = make_run(engine)
        household_item = make_item(engine, run, rule="C1", household=SMALL, region_code="350583101201")
        hiv_item = make_item(
            engine,
            run,
            rule="C4",
            household=SMALL,
            region_code="350583101201",
            id_number=SMALL_HEAD,
            programme="MEDICAL_ASSISTANCE",
            evidence=[settlement(SMALL_HEAD, "B20.1"), settlement(SMALL_HEAD, "J18.9")],
        )
        minor_item = make_item(
            engine,
            run,
            rule="C7",
            household=LARGE,
            region_code="350583102203",
            id_number=MINOR,
            programme="CHILD_WELFARE",
            evidence=[
                {
                    "department": "civil_affairs",
                    "table": "ertong",
                    "recordKey": MINOR,
                    "values": {"id_number": MINOR, "monthly_amount": "0", "no_such_column": "x"},
                }
            ],
        )
        outside_item = make_item(engine, run, rule="C1", household="350524000001", region_code=OUTSIDE_REGION)
        late_alert = make_alert(
            engine,
            kind="MEDICAL_COSTS",
            household=SMALL,
            region_code="350583101201",
            raised_at=NOW - dt.timedelta(days=2),
        )
        fresh_alert = make_alert(
            engine,
            kind="TEMPORARY_ASSISTANCE",
            household=LARGE,
            region_code="350583102203",
            raised_at=NOW - dt.timedelta(hours=1),
            emergency=True,
            evidence=[settlement(SMALL_HEAD, "B20.1")],
        )
        outside_run = make_run(engine, region="350524")
        outside_alert = make_alert(
            engine, kind="MEDICAL_COSTS", household="350524000001", region_code=OUTSIDE_REGION, raised_at=NOW
        )
        settings = Settings(database_url=url, token_rate_limit=0)
        with TestClient(create_app(settings)) as http:
            tokens = {}
            for client, (roles, purposes, regions) in CLIENTS.items():
                secret = register(engine, client, roles=roles, purposes=purposes, regions=regions)
                tokens[client] = token(http, client, secret)
            yield Ledger(
                http,
                engine,
                run,
                household_item,
                hiv_item,
                minor_item,
                outside_item,
                late_alert,
                fresh_alert,
                outside_run,
                outside_alert,
                tokens,
            )


def _nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in body["data"]["comparisonRun"]["items"]["edges"]]


def test_a_run_lists_its_items_inside_the_callers_regions_with_household_person_and_history(ledger: Ledger) -> None:
    # given a city run with items in Nanan and one in another county
    # when a Nanan caseworker reads the run
    status, body, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run))
    # then the item outside is not there, and the counts are of what the caller may see (C2 not evaluated)
    assert status == 200 and "errors" not in body, body
    nodes = _nodes(body)
    assert [int(node["id"]) for node in nodes] == [ledger.household_item, ledger.hiv_item, ledger.minor_item]
    assert body["data"]["comparisonRun"]["counts"] == {"C1": 1, "C4": 1, "C7": 1, "C2": None}
    # and a household rule has no person; a person rule's person is the registry's, under the policy
    assert nodes[0]["person"] is None and nodes[0]["household"]["householdNumber"] == SMALL
    assert nodes[1]["person"]["idNumber"] == SMALL_HEAD
    assert nodes[0]["household"]["address"] != "南安市溪美街道新华村12号"  # Household.address: mask for comparison
    # and each item carries its history from its creation
    assert nodes[0]["history"] == [{"actor": "aidgraph", "from": None, "to": "FOUND"}]


def test_an_hiv_code_in_the_evidence_is_withheld_like_the_diagnosis_field(ledger: Ledger) -> None:
    # given an item whose evidence holds two settlements, one with an HIV code
    # when civil affairs reads it for the comparison (SettlementRecord.diagnosisCode: deny)
    _, body, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), rule="C4")
    (node,) = _nodes(body)
    values = [entry["values"] for entry in node["evidence"]]
    # then no diagnosis is shown, the HIV code and the other alike, and the costs are
    assert [value["diagnosis_code"] for value in values] == [None, None]
    assert [value["out_of_pocket"] for value in values] == ["3200.00", "3200.00"]
    assert {
        "path": "comparisonRun.items.edges.node.evidence.values",
        "field": "SettlementRecord.diagnosisCode",
        "reason": "policy",
    } in body["extensions"]["withheld"]
    # and the read's audit event records the diagnosis as withheld and the costs as revealed, like the fields
    read = ledger.events()[-1]
    assert "SettlementRecord.diagnosisCode" in read["withheld"] and "SettlementRecord.outOfPocket" in read["revealed"]
    assert "Query.comparisonRun" in read["revealed"]
    # and for case management (diagnosisCode: mask) every code is shown as its chapter, the HIV one as any other
    _, alerts, _ = ledger.ask("nanan-civil", ALERTS, purpose="case-management", kind="TEMPORARY_ASSISTANCE")
    (alert,) = [edge["node"] for edge in alerts["data"]["alerts"]["edges"]]
    assert alert["evidence"][0]["values"]["diagnosis_code"] == "B**"
    assert "B20" not in str(alerts)


def test_a_minors_identity_in_the_evidence_is_masked_and_an_unknown_column_withheld(ledger: Ledger) -> None:
    # given a child-welfare finding about a minor, its evidence keyed by the minor's id
    _, body, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), rule="C7")
    (node,) = _nodes(body)
    (evidence,) = node["evidence"]
    # then the minor's id keeps only its region, in the values, the record key and the person alike
    assert evidence["values"]["id_number"] == MINOR[:6] + "*" * 12
    assert evidence["recordKey"] is None  # a record key holding a minor's id has no natural mask
    assert node["person"]["idNumber"] == MINOR[:6] + "*" * 12
    assert MINOR not in str(body)
    # and a column that no field presents is withheld
    assert evidence["values"]["no_such_column"] is None and evidence["values"]["monthly_amount"] == "0"


def test_a_minors_id_in_a_record_key_is_masked_where_nothing_else_names_the_minor(ledger: Ledger) -> None:
    # given a household finding (no person) whose evidence is a record keyed by a minor's id, its values
    # without an id column: only the key says whose record it is
    minors_record = {"department": "civil_affairs", "table": "ertong", "recordKey": MINOR, "values": {"yje": "0"}}
    with ledger.engine.begin() as connection:
        connection.execute(
            comparison_item.update()
            .where(comparison_item.c.id == ledger.household_item)
            .values(evidence=[minors_record])
        )
    # when the item is read
    _, body, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), rule="C1")
    (node,) = _nodes(body)
    # then the key is withheld as a minor's id is, and the minor's id appears nowhere in the answer
    assert node["person"] is None and node["evidence"][0]["recordKey"] is None
    assert MINOR not in str(body)


def test_items_page_by_cursor_and_filter_by_rule_and_status(ledger: Ledger) -> None:
    # when the run's items are read one at a time
    _, first, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), first=1)
    page = first["data"]["comparisonRun"]["items"]
    assert page["pageInfo"]["hasNextPage"] is True
    _, second, _ = ledger.ask(
        "nanan-civil", RUN, purpose="comparison", id=str(ledger.run), first=1, after=page["pageInfo"]["endCursor"]
    )
    # then the next page starts after the cursor
    assert [int(node["id"]) for node in _nodes(first) + _nodes(second)] == [ledger.household_item, ledger.hiv_item]
    # and filters select by rule and by status
    _, by_rule, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), rule="C7")
    assert [int(node["id"]) for node in _nodes(by_rule)] == [ledger.minor_item]
    _, none_closed, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), status="COVERED")
    assert _nodes(none_closed) == []
    _, bad, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), status="DONE")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_alerts_filter_by_overdue_kind_and_status(ledger: Ledger) -> None:
    # given an alert raised two days ago (due after 24 hours) and one raised an hour ago (due after 12)
    _, late, _ = ledger.ask("nanan-civil", ALERTS, purpose="case-management", overdue=True)
    _, on_time, _ = ledger.ask("nanan-civil", ALERTS, purpose="case-management", overdue=False)
    # then only the first is overdue, and says so
    assert [(int(edge["node"]["id"]), edge["node"]["overdue"]) for edge in late["data"]["alerts"]["edges"]] == [
        (ledger.late_alert, True)
    ]
    assert ledger.fresh_alert in [int(edge["node"]["id"]) for edge in on_time["data"]["alerts"]["edges"]]
    assert ledger.late_alert not in [int(edge["node"]["id"]) for edge in on_time["data"]["alerts"]["edges"]]
    _, medical, _ = ledger.ask("nanan-civil", ALERTS, purpose="case-management", kind="MEDICAL_COSTS")
    assert [int(edge["node"]["id"]) for edge in medical["data"]["alerts"]["edges"]] == [ledger.late_alert]


def test_a_run_and_an_alert_outside_the_regions_answer_as_ones_never_issued(ledger: Ledger) -> None:
    # when the Nanan caseworker asks for a run of another county, and for a run id nobody was given
    _, _, outside = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.outside_run))
    _, _, never = ledger.ask("nanan-civil", RUN, purpose="comparison", id="999999")
    # then both are null, to the byte
    assert outside == never == b'{"data":{"comparisonRun":null}}'
    # and the runs list shows the city run, not the other county's
    _, runs, _ = ledger.ask(
        "nanan-civil", '{ comparisonRuns(region: "35") { edges { node { id region } } } }', purpose="comparison"
    )
    assert str(ledger.outside_run) not in [edge["node"]["id"] for edge in runs["data"]["comparisonRuns"]["edges"]]
    assert str(ledger.run) in [edge["node"]["id"] for edge in runs["data"]["comparisonRuns"]["edges"]]
    # and an alert of the other county is not listed, nor can it be changed
    _, alerts, _ = ledger.ask("nanan-civil", ALERTS, purpose="case-management")
    assert ledger.outside_alert not in [int(edge["node"]["id"]) for edge in alerts["data"]["alerts"]["edges"]]
    asked = dict(purpose="case-management", actor="wang.fang", status="ACKNOWLEDGED", version=1)
    _, _, outside_alert = ledger.ask("nanan-civil", UPDATE_ALERT, id=str(ledger.outside_alert), **asked)
    _, _, never_alert = ledger.ask("nanan-civil", UPDATE_ALERT, id="999999", **asked)
    assert b'"NOT_FOUND"' in outside_alert
    assert outside_alert == never_alert.replace(b"999999", str(ledger.outside_alert).encode())


def test_runs_are_listed_newest_first_and_paged(ledger: Ledger) -> None:
    # given a second run of the city, newer than the first
    newer = make_run(ledger.engine, region="3505", counts={"C1": 0})
    document = """query Runs($after: String) { comparisonRuns(region: "3505", first: 1, after: $after) {
      edges { cursor node { id counts } } pageInfo { hasNextPage endCursor } } }"""
    # when the city's runs are read a page of one at a time
    _, first, _ = ledger.ask("nanan-civil", document, purpose="comparison")
    page = first["data"]["comparisonRuns"]
    _, second, _ = ledger.ask("nanan-civil", document, purpose="comparison", after=page["pageInfo"]["endCursor"])
    # then the newer comes first, and the next page holds the older
    assert [edge["node"]["id"] for edge in page["edges"]] == [str(newer)] and page["pageInfo"]["hasNextPage"]
    assert [edge["node"]["id"] for edge in second["data"]["comparisonRuns"]["edges"]] == [str(ledger.run)]
    # and a cursor of another list is refused
    cursor = page["pageInfo"]["endCursor"]
    _, bad, _ = ledger.ask("nanan-civil", RUN, purpose="comparison", id=str(ledger.run), after=cursor)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_item_outside_the_regions_cannot_be_changed_and_answers_as_one_never_issued(ledger: Ledger) -> None:
    # given an item of another county, and an id nobody was given
    # when the Nanan caseworker tries to change each
    asked = dict(purpose="comparison", actor="wang.fang", status="ASSIGNED", version=1, assignee="wang.fang")
    _, _, outside = ledger.ask("nanan-civil", UPDATE_ITEM, id=str(ledger.outside_item), **asked)
    _, _, unknown = ledger.ask("nanan-civil", UPDATE_ITEM, id="999999", **asked)
    # then both answer NOT_FOUND, byte for byte the same apart from the id the caller sent
    assert outside == unknown.replace(b"999999", str(ledger.outside_item).encode())
    assert b'"NOT_FOUND"' in outside
    # and the item is unchanged
    assert ledger.item(ledger.outside_item)["status"] == lifecycle.FOUND


def test_the_comparison_needs_its_purpose_and_the_poverty_office_only_reads_alerts(ledger: Ledger) -> None:
    # when civil affairs asks for the ledger under another purpose, and alerts under the comparison
    _, review, _ = ledger.ask("nanan-civil", RUN, purpose="assistance-review", id=str(ledger.run))
    _, wrong, _ = ledger.ask("nanan-civil", ALERTS, purpose="comparison")
    # then both are FORBIDDEN, saying which purposes the entry point serves
    assert review["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "case-management" in wrong["errors"][0]["message"]
    # and the poverty office reads alerts, but neither the comparison ledger nor any write
    _, alerts, _ = ledger.ask("city-poverty", ALERTS, purpose="case-management")
    assert len(alerts["data"]["alerts"]["edges"]) == 3
    _, runs, _ = ledger.ask("city-poverty", RUN, purpose="comparison", id=str(ledger.run))
    assert runs["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    before = len(ledger.events())
    _, write, _ = ledger.ask(
        "city-poverty",
        UPDATE_ALERT,
        purpose="case-management",
        actor="li.ming",
        id=str(ledger.late_alert),
        status="ACKNOWLEDGED",
        version=1,
    )
    assert write["errors"][0]["extensions"]["code"] == "FORBIDDEN" and write["data"]["updateAlert"] is None
    # and the refused write is audited, naming the actor
    (event,) = ledger.events()[before:]
    assert (event["outcome"], event["actor"], event["client_id"]) == ("refused", "li.ming", "city-poverty")


def test_a_mutation_needs_x_actor_and_its_refusal_is_audited(ledger: Ledger) -> None:
    before = len(ledger.events())
    # when civil affairs changes an item without naming the person acting
    status, body, _ = ledger.ask(
        "nanan-civil",
        UPDATE_ITEM,
        purpose="comparison",
        id=str(ledger.household_item),
        status="ASSIGNED",
        version=1,
        assignee="wang.fang",
    )
    # then it is refused before anything runs, saying what is missing, and the refusal is audited
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "ACTOR_REQUIRED"
    assert "X-Actor" in body["errors"][0]["message"] and "data" not in body
    (event,) = ledger.events()[before:]
    assert event["outcome"] == "refused" and event["detail"].startswith("ACTOR_REQUIRED")
    assert ledger.item(ledger.household_item)["version"] == 1


def test_a_change_is_one_audit_event_naming_the_actor_and_the_second_writer_gets_a_conflict(ledger: Ledger) -> None:
    item = ledger.hiv_item
    before = len(ledger.events())
    asked = dict(purpose="comparison", id=str(item), status="ASSIGNED", version=1)
    # when two caseworkers assign the same item, both from version 1
    _, first, _ = ledger.ask("nanan-civil", UPDATE_ITEM, actor="wang.fang", assignee="wang.fang", **asked)
    _, second, _ = ledger.ask("nanan-civil", UPDATE_ITEM, actor="chen.jie", assignee="chen.jie", **asked)
    # then the first wins, and the history names the client and the person
    changed = first["data"]["updateComparisonItem"]
    assert (changed["status"], changed["version"]) == ("ASSIGNED", 2), first
    assert changed["history"][-1] == {
        "actor": "nanan-civil/wang.fang",
        "from": "FOUND",
        "to": "ASSIGNED",
        "reasonCode": None,
    }
    # and the second gets CONFLICT with the state the first left, changing nothing
    (error,) = second["errors"]
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["current"]["version"] == 2 and error["extensions"]["current"]["status"] == "ASSIGNED"
    assert ledger.item(item)["assignee"] == "wang.fang"
    # and each request is one event: the change, then the refused one, each naming its actor
    events = ledger.events()[before:]
    assert [(event["outcome"], event["actor"], event["operation"]) for event in events] == [
        ("changed", "wang.fang", "Work"),
        ("refused", "chen.jie", "Work"),
    ]
    assert events[0]["detail"] == f"comparison item {item}: FOUND -> ASSIGNED, version 2"
    assert events[1]["detail"] == "errors: CONFLICT"


def test_a_change_the_lifecycle_refuses_says_why(ledger: Ledger) -> None:
    # when an item that was found is closed at once, and one is assigned to nobody
    asked = dict(purpose="comparison", actor="wang.fang", id=str(ledger.minor_item), version=1)
    _, skipped, _ = ledger.ask("nanan-civil", UPDATE_ITEM, status="COVERED", **asked)
    _, nobody, _ = ledger.ask("nanan-civil", UPDATE_ITEM, status="ASSIGNED", **asked)
    # then each is BAD_USER_INPUT saying what was wrong, and nothing changed
    assert skipped["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert skipped["errors"][0]["message"] == "an item in FOUND cannot become COVERED (it may become: ASSIGNED)"
    assert nobody["errors"][0]["message"] == "ASSIGNED needs an assignee"
    assert ledger.item(ledger.minor_item)["version"] == 1


def test_an_assignee_longer_than_its_column_is_refused_and_audited_on_both_stores(ledger: Ledger) -> None:
    # when an item is assigned to a name longer than the column holds
    before = len(ledger.events())
    asked = dict(purpose="comparison", actor="wang.fang", id=str(ledger.minor_item), version=1)
    status, long, _ = ledger.ask("nanan-civil", UPDATE_ITEM, status="ASSIGNED", assignee="y" * 300, **asked)
    # then it is BAD_USER_INPUT before any SQL (PostgreSQL would fail the transaction, audit event and
    # all), nothing changed, and the refusal is on the trail
    assert status == 200 and long["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "1 to 100 characters" in long["errors"][0]["message"]
    assert ledger.item(ledger.minor_item)["version"] == 1
    assert [event["outcome"] for event in ledger.events()[before:]] == ["refused"]


def test_an_alert_is_acknowledged_once(ledger: Ledger) -> None:
    asked = dict(purpose="case-management", actor="wang.fang", id=str(ledger.fresh_alert), version=1)
    _, done, _ = ledger.ask("nanan-civil", UPDATE_ALERT, status="ACKNOWLEDGED", **asked)
    assert done["data"]["updateAlert"] == {"id": str(ledger.fresh_alert), "status": "ACKNOWLEDGED", "version": 2}
    _, again, _ = ledger.ask("nanan-civil", UPDATE_ALERT, status="ACKNOWLEDGED", **asked)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"


def test_no_change_without_its_audit_event(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a trail that cannot take the change's event
    def unavailable(self: AuditLog, connection: sa.Connection, events: Any) -> list[int]:
        raise AuditUnavailable("the audit event could not be written: OperationalError")

    monkeypatch.setattr(AuditLog, "append_within", unavailable)
    with ledger.engine.connect() as connection:
        history_before = connection.execute(sa.select(sa.func.count()).select_from(casework_history)).scalar_one()
    # when an item is assigned
    status, body, _ = ledger.ask(
        "nanan-civil",
        UPDATE_ITEM,
        purpose="comparison",
        actor="wang.fang",
        id=str(ledger.household_item),
        status="ASSIGNED",
        version=1,
        assignee="wang.fang",
    )
    # then the answer is 503 and the change was rolled back with its history
    assert status == 503 and body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert ledger.item(ledger.household_item)["version"] == 1
    with ledger.engine.connect() as connection:
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(casework_history)).scalar_one() == history_before
        )


def test_a_mutation_over_get_is_refused(ledger: Ledger) -> None:
    # when a mutation is sent as a GET request's query parameter
    acknowledge = f'mutation {{ updateAlert(id: "{ledger.late_alert}", status: "ACKNOWLEDGED", version: 1) {{ id }} }}'
    response = ledger.http.get(
        "/graphql",
        params={"query": acknowledge},
        headers={"Authorization": f"Bearer {ledger.tokens['nanan-civil']}", "X-Actor": "wang.fang"},
    )
    # then it is 405, naming POST, the one method a mutation (or any operation) may come by (GraphQL over HTTP)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    with ledger.engine.connect() as connection:
        assert connection.execute(sa.select(alert.c.version).where(alert.c.id == ledger.late_alert)).scalar_one() == 1


def test_one_change_per_request(ledger: Ledger) -> None:
    two = """mutation Two { a: updateAlert(id: "1", status: "ACKNOWLEDGED", version: 1) { id }
      b: updateAlert(id: "2", status: "ACKNOWLEDGED", version: 1) { id } }"""
    status, body, _ = ledger.ask("nanan-civil", two, purpose="case-management", actor="wang.fang")
    assert status == 400 and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_of_writers_at_the_same_moment_one_changes_and_the_others_get_conflicts(ledger: Ledger) -> None:
    # given a fresh item, and five caseworkers who all read its version 1
    item = make_item(ledger.engine, ledger.run, rule="C1", household=LARGE, region_code="350583102203")
    before = len(ledger.events())

    def assign(actor: str) -> dict[str, Any]:
        asked = dict(purpose="comparison", id=str(item), status="ASSIGNED", version=1, assignee=actor)
        return ledger.ask("nanan-civil", UPDATE_ITEM, actor=actor, **asked)[1]

    # when they all assign it at once
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(assign, [f"worker.{n}" for n in range(5)]))
    # then exactly one wins, the others get CONFLICT with the winner's state, and nothing is overwritten
    won = [answer for answer in answers if answer["data"]["updateComparisonItem"] is not None]
    lost = [answer["errors"][0]["extensions"] for answer in answers if answer.get("errors")]
    assert len(won) == 1 and len(lost) == 4
    assert {(error["code"], error["current"]["version"]) for error in lost} == {("CONFLICT", 2)}
    winner = won[0]["data"]["updateComparisonItem"]["history"][-1]["actor"]
    assert ledger.item(item)["assignee"] == winner.removeprefix("nanan-civil/")
    # and the trail holds one event per request: one change, four refusals
    outcomes = sorted(event["outcome"] for event in ledger.events()[before:])
    assert outcomes == ["changed", "refused", "refused", "refused", "refused"]


def test_what_lies_below_an_items_household_and_person_is_read_as_under_household(ledger: Ledger) -> None:
    # when the run's items are read with their households' members and their persons' records
    document = """query Deep($id: ID!) { comparisonRun(id: $id) { items(rule: "C7") { edges { node {
      household { householdNumber members { relationToHead } } person { household { householdNumber } } } } } } }"""
    _, body, _ = ledger.ask("nanan-civil", document, purpose="comparison", id=str(ledger.run))
    _, direct, _ = ledger.ask(
        "nanan-civil",
        "query H($n: String!) { household(householdNumber: $n) { householdNumber members { relationToHead } } }",
        purpose="comparison",
        n=LARGE,
    )
    # then the household is the one `household` answers, members and all, and the person leads back to it
    (node,) = [edge["node"] for edge in body["data"]["comparisonRun"]["items"]["edges"]]
    assert node["household"] == direct["data"]["household"] and len(node["household"]["members"]) == 8
    assert node["person"]["household"]["householdNumber"] == LARGE
