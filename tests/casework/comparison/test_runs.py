"""Comparison runs and the ledger, on SQLite and PostgreSQL: re-runs, clearing by data, suppression, inputs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from casework import changes, lifecycle
from casework.comparison.findings import fingerprint
from casework.tables import comparison_item, comparison_run, comparison_run_item
from tests.casework.comparison.world import World, found, run_rules

LATER_EXPORT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _poor_household(world: World, *, income: int = 6000) -> str:
    household = world.household()
    world.monitored(household)
    world.check(household, "2026-06-01", 1, income)
    return household


def _decide(engine: sa.Engine, item_id: int, to: str, reason: str) -> None:
    with engine.begin() as connection:
        for change in (
            lifecycle.Change(lifecycle.ASSIGNED, assignee="王芳"),
            lifecycle.Change(lifecycle.VERIFIED),
            lifecycle.Change(to, reason_code=reason),
        ):
            version = connection.execute(
                sa.select(comparison_item.c.version).where(comparison_item.c.id == item_id)
            ).scalar_one()
            changes.change_item(connection, item_id, change, version=version, actor="王芳")


def _run_items(engine: sa.Engine, run_id: int) -> list[int]:
    with engine.connect() as connection:
        query = sa.select(comparison_run_item.c.item_id).where(comparison_run_item.c.run_id == run_id)
        return sorted(connection.execute(query).scalars())


def test_a_second_run_links_the_same_items_and_creates_none(engine: sa.Engine, tmp_path: Path) -> None:
    # given a world with one finding, run once
    world = World(tmp_path)
    household = _poor_household(world)
    world.ingest(engine)
    first = run_rules(engine)
    # when the rules run again on the same data
    second = run_rules(engine)
    # then there is still one item, found by both runs, first by the first, last by the second
    [item] = found(engine, "C1").values()
    assert item["subject"] == household and item["status"] == lifecycle.FOUND
    assert (item["first_run"], item["last_run"]) == (first.run_id, second.run_id)
    assert _run_items(engine, first.run_id) == _run_items(engine, second.run_id) == [item["id"]]
    # and its history holds its creation alone: finding it again unchanged is no change of the item
    with engine.connect() as connection:
        assert [entry["to_status"] for entry in changes.history(connection, "item", item["id"])] == ["FOUND"]  # type: ignore[arg-type]


def test_an_item_whose_condition_no_longer_holds_is_cleared_by_data(engine: sa.Engine, tmp_path: Path) -> None:
    # given two findings, in two townships, run once
    world = World(tmp_path)
    covered = _poor_household(world)
    elsewhere = world.household(village="102201")
    world.monitored(elsewhere)
    world.check(elsewhere, "2026-06-01", 1, 6000)
    world.ingest(engine)
    run_rules(engine)
    # when both are put on dibao and a run covers only the first one's township
    world.dibao(covered)
    world.dibao(elsewhere)
    world.ingest(engine, as_of=LATER_EXPORT)
    run_rules(engine, region="350583101")
    # then the first is CLEARED_BY_DATA by the hub, the other, outside the run's region, stays open
    items = found(engine, "C1")
    assert items[(covered, "DIBAO")]["status"] == lifecycle.CLEARED_BY_DATA
    assert items[(elsewhere, "DIBAO")]["status"] == lifecycle.FOUND
    with engine.connect() as connection:
        [_, cleared] = changes.history(connection, "item", items[(covered, "DIBAO")]["id"])  # type: ignore[arg-type]
    assert (cleared["actor"], cleared["from_status"], cleared["to_status"]) == ("aidgraph", "FOUND", "CLEARED_BY_DATA")


def test_a_not_eligible_decision_suppresses_until_the_evidence_changes(engine: sa.Engine, tmp_path: Path) -> None:
    # given a finding a caseworker decided NOT_ELIGIBLE
    world = World(tmp_path)
    household = _poor_household(world)
    world.ingest(engine)
    run_rules(engine)
    [item] = found(engine, "C1").values()
    _decide(engine, int(item["id"]), lifecycle.NOT_ELIGIBLE, "SUPPORTED_BY_FAMILY")  # type: ignore[call-overload]
    # when the rules run again on the same data
    again = run_rules(engine)
    # then the item stays decided, linked to the run, not reopened
    [same] = found(engine, "C1").values()
    assert same["status"] == lifecycle.NOT_ELIGIBLE and same["id"] == item["id"]
    assert _run_items(engine, again.run_id) == [item["id"]]
    # when a new check changes the evidence
    world.check(household, "2026-11-01", 1, 5000)
    world.ingest(engine, as_of=LATER_EXPORT)
    run_rules(engine)
    # then the item comes back REOPENED with the new evidence, its old decision still there to read
    [back] = found(engine, "C1").values()
    assert back["status"] == lifecycle.REOPENED and back["reason_code"] == "SUPPORTED_BY_FAMILY"
    assert back["fingerprint"] == fingerprint(back["evidence"]) != item["fingerprint"]  # type: ignore[arg-type]
    with engine.connect() as connection:
        steps = [entry["to_status"] for entry in changes.history(connection, "item", back["id"])]  # type: ignore[arg-type]
    assert steps == ["FOUND", "ASSIGNED", "VERIFIED", "NOT_ELIGIBLE", "REOPENED"]


def test_the_fingerprint_is_the_sha256_of_the_sorted_evidence(engine: sa.Engine, tmp_path: Path) -> None:
    # given a finding
    world = World(tmp_path)
    _poor_household(world)
    world.ingest(engine)
    run_rules(engine)
    # when its evidence is read back
    [item] = found(engine, "C1").values()
    evidence = item["evidence"]
    # then it is sorted by (department, table, recordKey), and the fingerprint is that of its canonical JSON
    import hashlib
    import json

    keys = [(record["department"], record["table"], record["recordKey"]) for record in evidence]  # type: ignore[attr-defined]
    assert keys == sorted(keys)
    canonical = json.dumps(evidence, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert item["fingerprint"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_rule_whose_department_has_no_snapshot_is_not_evaluated(engine: sa.Engine, tmp_path: Path) -> None:
    # given every department but housing ingested
    world = World(tmp_path)
    _poor_household(world)
    world.ingest(engine, departments=("registry", "civil_affairs", "education", "medical", "disability", "poverty"))
    # when the rules run, with medical read live
    result = run_rules(engine, live={"medical"})
    # then C5 (housing) and C4, C6 (medical, live) are not evaluated: null, not 0; the others counted
    assert result.counts == {"C1": 1, "C2": 0, "C3": 0, "C4": None, "C5": None, "C6": None, "C7": 0, "C8": 0}
    assert "housing" in result.not_evaluated["C5"]
    assert "read live" in result.not_evaluated["C4"]
    # and the stored run says what it read: an ingest run per department, live, or nothing
    with engine.connect() as connection:
        stored = connection.execute(sa.select(comparison_run)).mappings().one()
    assert stored["inputs"]["housing"] is None and stored["inputs"]["medical"] == {"live": True}
    assert set(stored["inputs"]["registry"]) == {"ingestRun", "asOf"}
    assert stored["counts"]["C5"] is None and stored["term"] == "2026-2027-1"


def test_a_c3_run_for_another_term_does_not_clear_this_terms_items(engine: sa.Engine, tmp_path: Path) -> None:
    # given a student found for the autumn term
    world = World(tmp_path)
    household = world.household()
    world.dibao(household)
    student = world.person(household, born="20150301")
    world.enrol(student)
    world.ingest(engine)
    run_rules(engine)
    # when the rules run for the spring term, in which the student is not enrolled
    run_rules(engine, term="2026-2027-2")
    # then the autumn item stays open; a new autumn run that no longer finds the student clears it
    assert found(engine, "C3")[(student, "STUDENT_AID")]["status"] == lifecycle.FOUND
    world.student_aid(student)
    world.ingest(engine, as_of=LATER_EXPORT)
    run_rules(engine)
    assert found(engine, "C3")[(student, "STUDENT_AID")]["status"] == lifecycle.CLEARED_BY_DATA
