"""An item's change goes through its lifecycle and its version, and leaves its history (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from casework import changes, lifecycle
from casework.lifecycle import Change
from casework.tables import comparison_item, comparison_run

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _item(connection: sa.Connection) -> int:
    run = connection.execute(
        comparison_run.insert()
        .returning(comparison_run.c.id)
        .values(
            region="3505",
            term=None,
            as_of=NOW.date(),
            started_at=NOW,
            started_by="test",
            rules_version="1",
            thresholds={},
            inputs={},
            counts={},
        )
    ).scalar_one()
    row = {
        "rule": "C1",
        "subject": "350583000001",
        "programme": "DIBAO",
        "household_number": "350583000001",
        "id_number": None,
        "region_code": "350583000000",
        "status": lifecycle.FOUND,
        "evidence": [],
        "fingerprint": "f" * 64,
        "first_run": run,
        "last_run": run,
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }
    item_id = int(
        connection.execute(comparison_item.insert().returning(comparison_item.c.id).values(**row)).scalar_one()
    )
    changes.record_creation(connection, "item", {**row, "id": item_id}, now=NOW)
    return item_id


def test_a_change_raises_the_version_and_is_recorded_in_the_history(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        item_id = _item(connection)
        written = changes.change_item(
            connection, item_id, Change(lifecycle.ASSIGNED, assignee="wang"), version=1, actor="caseworker-li", now=NOW
        )
        assert (written["status"], written["version"], written["assignee"]) == (lifecycle.ASSIGNED, 2, "wang")
        history = changes.history(connection, "item", item_id)
    assert [(h["actor"], h["from_status"], h["to_status"], h["version"]) for h in history] == [
        ("aidgraph", None, "FOUND", 1),
        ("caseworker-li", "FOUND", "ASSIGNED", 2),
    ]


def test_the_second_of_two_writers_gets_a_conflict_with_the_state_the_first_left(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        item_id = _item(connection)
        changes.change_item(connection, item_id, Change(lifecycle.ASSIGNED, assignee="wang"), version=1, actor="a")
        with pytest.raises(changes.Conflict) as conflict:
            changes.change_item(connection, item_id, Change(lifecycle.ASSIGNED, assignee="li"), version=1, actor="b")
        assert (conflict.value.current["assignee"], conflict.value.current["version"]) == ("wang", 2)
        assert len(changes.history(connection, "item", item_id)) == 2


def test_a_suppressing_decision_keeps_the_fingerprint_it_saw(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        item_id = _item(connection)
        steps = [
            Change(lifecycle.ASSIGNED, assignee="wang"),
            Change(lifecycle.VERIFIED),
            Change(lifecycle.NOT_ELIGIBLE, reason_code="SUPPORTED_BY_FAMILY", note="son pays rent"),
        ]
        for version, step in enumerate(steps, start=1):
            written = changes.change_item(connection, item_id, step, version=version, actor="wang")
    assert (written["decided_fingerprint"], written["reason_code"]) == ("f" * 64, "SUPPORTED_BY_FAMILY")


def test_a_missing_item_is_not_found(engine: sa.Engine) -> None:
    with engine.begin() as connection, pytest.raises(changes.NotFound):
        changes.change_item(connection, 999, Change(lifecycle.ASSIGNED, assignee="x"), version=1, actor="a")
