"""Rows of the casework ledgers, written straight into casework.tables: the runs and scans that fill them
are built elsewhere, and the GraphQL layer must answer whatever they store."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from casework import changes, lifecycle
from casework.tables import alert, comparison_item, comparison_run, comparison_run_item

NOW = dt.datetime.now(dt.UTC)


def make_run(engine: sa.Engine, *, region: str = "3505", counts: dict[str, int | None] | None = None) -> int:
    with engine.begin() as connection:
        return int(
            connection.execute(
                comparison_run.insert()
                .returning(comparison_run.c.id)
                .values(
                    region=region,
                    term="2026-2027-1",
                    as_of=NOW.date(),
                    started_at=NOW,
                    finished_at=NOW,
                    started_by="tests",
                    rules_version="1",
                    thresholds={},
                    inputs={"civil_affairs": {"ingestRun": 1, "asOf": "2026-11-30"}},
                    counts=counts if counts is not None else {"C1": 1, "C4": 1, "C7": 1, "C2": None},
                )
            ).scalar_one()
        )


def make_item(
    engine: sa.Engine,
    run_id: int,
    *,
    rule: str,
    household: str,
    region_code: str,
    id_number: str | None = None,
    programme: str = "DIBAO",
    status: str = lifecycle.FOUND,
    evidence: list[dict[str, Any]] | None = None,
    subject: str | None = None,
) -> int:
    row = {
        "rule": rule,
        "subject": subject or id_number or household,
        "programme": programme,
        "household_number": household,
        "id_number": id_number,
        "region_code": region_code,
        "status": status,
        "evidence": evidence or [],
        "fingerprint": "0" * 64,
        "first_run": run_id,
        "last_run": run_id,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    with engine.begin() as connection:
        item_id = int(
            connection.execute(comparison_item.insert().returning(comparison_item.c.id).values(**row)).scalar_one()
        )
        connection.execute(comparison_run_item.insert().values(run_id=run_id, item_id=item_id))
        changes.record_creation(connection, "item", {**row, "id": item_id}, now=NOW)
    return item_id


def make_alert(
    engine: sa.Engine,
    *,
    kind: str,
    household: str,
    region_code: str,
    raised_at: dt.datetime,
    emergency: bool = False,
    status: str = lifecycle.RAISED,
    evidence: list[dict[str, Any]] | None = None,
) -> int:
    row = {
        "kind": kind,
        "household_number": household,
        "region_code": region_code,
        "status": status,
        "level": lifecycle.TOWNSHIP,
        "emergency": emergency,
        "evidence": evidence or [],
        "raised_at": raised_at,
        "due_at": lifecycle.due_at(raised_at, emergency=emergency),
        "rules_version": "1",
        "version": 1,
        "updated_at": raised_at,
    }
    with engine.begin() as connection:
        alert_id = int(connection.execute(alert.insert().returning(alert.c.id).values(**row)).scalar_one())
        changes.record_creation(connection, "alert", {**row, "id": alert_id}, now=raised_at)
    return alert_id


def settlement(id_number: str, diagnosis_code: str) -> dict[str, Any]:
    """A medical settlement as a finding's evidence holds it: the store's columns, as JSON."""
    key = f"JS{id_number[-6:]}{sum(map(ord, diagnosis_code))}"  # the code itself only in its column
    return {
        "department": "medical",
        "table": "jsxx",
        "recordKey": key,
        "values": {
            "settlement_id": key,
            "id_number": id_number,
            "kind": "INPATIENT",
            "to_date": "2026-10-02",
            "out_of_pocket": "3200.00",
            "medical_assistance_paid": "0",
            "diagnosis_code": diagnosis_code,
        },
    }
