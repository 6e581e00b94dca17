"""The scan raises once per evidence, joins new evidence to an open alert, and escalates the overdue (fixed clock)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from aidgraph import cli
from casework import changes, lifecycle
from casework.lifecycle import Change
from casework.tables import alert, alert_evidence
from casework.warnings import rules as r
from casework.warnings.rules import default_rules
from casework.warnings.scan import escalate, scan
from resolvers.rules.regions import Region
from tests.casework.warnings.records import HEAD, HOUSEHOLD, NOW, SPOUSE, D, certificate, household, temporary_case
from webhooks.clock import utc

RULES = default_rules()
NAN_AN = [Region("350583")]
HOUR = dt.timedelta(hours=1)


def _scan(connection: sa.Connection, *, now: dt.datetime = NOW) -> dict[str, int]:
    report = scan(connection, regions=NAN_AN, as_of=D, now=now, rules=RULES)
    counts = report.kinds[r.SEVERE_DISABILITY]
    return {"raised": counts.raised, "joined": counts.joined, "escalated": report.escalated}


def _alerts(connection: sa.Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(sa.select(alert).order_by(alert.c.id)).mappings()]


def test_an_alert_is_raised_at_the_township_due_in_24_hours_with_its_history(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a new severe certificate
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        # when the scan runs
        assert _scan(connection) == {"raised": 1, "joined": 0, "escalated": 0}
        # then one RAISED township alert is due 24 hours later, with the certificate as its evidence
        (raised,) = _alerts(connection)
        assert (raised["status"], raised["level"], raised["emergency"]) == (lifecycle.RAISED, lifecycle.TOWNSHIP, False)
        assert utc(raised["due_at"]) == NOW + 24 * HOUR
        assert raised["rules_version"] == RULES.version
        assert raised["evidence"] == [
            {
                "department": "disability",
                "table": "cjr",
                "recordKey": "C1",
                "values": {"id_number": HEAD, "grade": 1, "issued_on": D.isoformat(), "valid_until": None},
            }
        ]
        # and its history starts with its creation by the hub
        (created,) = changes.history(connection, "alert", int(raised["id"]))
        assert (created["from_status"], created["to_status"], created["actor"]) == (None, lifecycle.RAISED, "aidgraph")


def test_the_same_evidence_is_never_raised_twice(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a scan that raised an alert for a certificate
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        _scan(connection)
        # when the scan runs again, and again after the alert was dismissed
        again = _scan(connection, now=NOW + HOUR)
        (raised,) = _alerts(connection)
        _dismiss(connection, raised)
        after_dismissal = _scan(connection, now=NOW + 2 * HOUR)
        # then nothing more is raised or joined: the evidence is known
        assert again == after_dismissal == {"raised": 0, "joined": 0, "escalated": 0}
        assert len(_alerts(connection)) == 1
        assert connection.execute(sa.select(sa.func.count()).select_from(alert_evidence)).scalar_one() == 1


def test_new_evidence_joins_the_open_alert_of_its_kind(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given an open alert for one member's certificate
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        _scan(connection)
        # when the other member's new certificate is scanned
        certificate(connection, SPOUSE, "C2", grade=2, issued=D)
        assert _scan(connection, now=NOW + HOUR) == {"raised": 0, "joined": 1, "escalated": 0}
        # then it joins that alert, whose version rose, and the hub's change is in its history
        (joined,) = _alerts(connection)
        assert [item["recordKey"] for item in joined["evidence"]] == ["C1", "C2"]
        assert joined["version"] == 2
        history = changes.history(connection, "alert", int(joined["id"]))
        assert [(entry["actor"], entry["to_status"]) for entry in history] == [("aidgraph", "RAISED")] * 2


def test_new_evidence_after_an_alert_was_closed_raises_a_new_alert(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a dismissed alert for one certificate
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        _scan(connection)
        (first,) = _alerts(connection)
        _dismiss(connection, first)
        # when a new certificate of the household is scanned
        certificate(connection, SPOUSE, "C2", grade=2, issued=D)
        assert _scan(connection, now=NOW + HOUR)["raised"] == 1
        # then a second alert holds it; the closed one is untouched
        closed, second = _alerts(connection)
        assert closed["status"] == lifecycle.DISMISSED
        assert [item["recordKey"] for item in second["evidence"]] == ["C2"]


def test_an_emergency_is_due_in_12_hours_and_escalates_after_them(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given an emergency temporary-assistance case raised at 09:00 and an ordinary severe-disability alert
        household(connection)
        temporary_case(connection, "T1", cause="DISASTER", applied=D, emergency=True, household_number=HOUSEHOLD)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        _scan(connection)
        # when the clock reaches exactly 12 hours, then nothing is overdue yet
        assert escalate(connection, now=NOW + 12 * HOUR) == 0
        # when it passes them, then the emergency moves to the county, by the hub, with a history entry
        assert escalate(connection, now=NOW + 12 * HOUR + dt.timedelta(seconds=1)) == 1
        emergency, ordinary = sorted(_alerts(connection), key=lambda row: str(row["kind"]))[::-1]
        assert (emergency["kind"], emergency["level"], emergency["status"]) == (
            r.TEMPORARY_ASSISTANCE,
            lifecycle.COUNTY,
            lifecycle.RAISED,
        )
        last = changes.history(connection, "alert", int(emergency["id"]))[-1]
        assert last["actor"] == "aidgraph" and "escalated to the county" in last["note"]
        assert ordinary["level"] == lifecycle.TOWNSHIP
        # when a scan runs after 24 hours, then it escalates the ordinary one too, and nothing twice
        assert _scan(connection, now=NOW + 25 * HOUR)["escalated"] == 1
        assert {row["level"] for row in _alerts(connection)} == {lifecycle.COUNTY}


def test_an_acknowledged_alert_does_not_escalate(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given an alert acknowledged in time
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        _scan(connection)
        (raised,) = _alerts(connection)
        changes.change_alert(
            connection,
            int(raised["id"]),
            Change(lifecycle.ACKNOWLEDGED),
            version=1,
            actor="li",
            now=NOW + HOUR,
        )
        # when the clock is long past its due time, then it stays at the township
        assert escalate(connection, now=NOW + 100 * HOUR) == 0


def _dismiss(connection: sa.Connection, row: dict[str, Any]) -> None:
    alert_id, version = int(row["id"]), int(row["version"])
    for change in (
        Change(lifecycle.ACKNOWLEDGED),
        Change(lifecycle.VERIFYING),
        Change(lifecycle.DISMISSED, reason_code="NO_RISK_FOUND"),
    ):
        version = int(
            changes.change_alert(connection, alert_id, change, version=version, actor="li", now=NOW)["version"]
        )


def test_the_command_escalates_on_its_own_and_refuses_a_region_that_is_not_one(
    engine: sa.Engine, store_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an alert raised a day ago and never acknowledged
    with engine.begin() as connection:
        household(connection)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        scan(connection, regions=NAN_AN, as_of=D, now=dt.datetime.now(dt.UTC) - 25 * HOUR, rules=RULES)
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    # when `aidgraph warnings escalate` runs, then it moves it to the county
    assert cli.main(["warnings", "escalate"]) == 0
    assert "escalated 1 overdue alerts to the county" in capsys.readouterr().out
    with engine.connect() as connection:
        assert connection.execute(sa.select(alert.c.level)).scalar_one() == lifecycle.COUNTY
    # and a scan of something that is no region is refused
    assert cli.main(["warnings", "scan", "--region", "35x"]) == 2
    assert "not a division code" in capsys.readouterr().err
