"""The eight comparison rules, on SQLite and PostgreSQL: each one's findings and near misses, and its evidence."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.casework.comparison.world import URBAN_STANDARD, World, found, run_rules


def _subjects(engine: sa.Engine, rule: str) -> set[tuple[str, str]]:
    return set(found(engine, rule))


def _income(per_capita_monthly: int, persons: int = 1) -> int:
    return per_capita_monthly * persons * 12


def test_c1_a_poor_household_below_the_standard_not_on_dibao(engine: sa.Engine, tmp_path: Path) -> None:
    # given monitored or registered-poor households whose latest check is below, at or above the standard
    world = World(tmp_path)
    below, at, above, lifted, on_dibao, exiting, neither = (world.household() for _ in range(7))
    for household in (below, at, above, on_dibao, exiting):
        world.monitored(household)
    world.registered_poor(lifted, year=2015, lifted=2019)  # lifted out, still registered
    world.check(below, "2026-06-01", 2, _income(URBAN_STANDARD - 1, 2))
    world.check(at, "2026-06-01", 1, _income(URBAN_STANDARD))
    world.check(above, "2026-06-01", 1, _income(URBAN_STANDARD + 1))
    world.check(lifted, "2026-06-01", 1, _income(500))
    world.check(on_dibao, "2026-06-01", 1, _income(500))
    world.check(exiting, "2026-06-01", 1, _income(500))
    world.check(neither, "2026-06-01", 1, _income(500))  # neither monitored nor registered
    world.dibao(on_dibao)
    world.dibao(exiting, start="2024-01-01", end="2026-06-30", exit_until="2027-06-30")  # gradual exit: covered
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then the household below the standard and the lifted-out one are found, no one else
    assert _subjects(engine, "C1") == {(below, "DIBAO"), (lifted, "DIBAO")}
    # and the evidence is the poverty record, the check and the standard compared with
    evidence = found(engine, "C1")[(below, "DIBAO")]["evidence"]
    assert [(record["table"], record["recordKey"]) for record in evidence] == [  # type: ignore[attr-defined]
        ("bzbz", "350583|2026|URBAN"),
        ("hdxx", f"{below}|2026-06-01"),
        ("jcdx", f"{below}|2025-06-01"),
    ]


def test_c1_an_older_check_below_does_not_count_after_a_newer_above(engine: sa.Engine, tmp_path: Path) -> None:
    # given a monitored household checked below the standard, then above it, then below after the as-of day
    world = World(tmp_path)
    household = world.household()
    world.monitored(household)
    world.check(household, "2026-01-10", 1, _income(400))
    world.check(household, "2026-07-10", 1, _income(2000))
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then the latest check on the day decides: not found
    assert _subjects(engine, "C1") == set()


def test_c2_the_two_subsidies_of_a_disabled_person(engine: sa.Engine, tmp_path: Path) -> None:
    # given certificate holders of grade 2 and 3, valid, expired, not yet issued, with and without subsidies
    world = World(tmp_path)
    household = world.household()
    severe, moderate, expired, future, nursed, ended, on_dibao, living = (world.person(household) for _ in range(8))
    world.certificate(severe, grade=2)
    world.certificate(moderate, grade=3)
    world.certificate(expired, grade=1, until="2026-11-30")
    world.certificate(future, grade=1, issued="2026-12-02")
    world.certificate(nursed, grade=1)
    world.subsidy(nursed, nursing=True)
    world.certificate(ended, grade=2)
    world.subsidy(ended, nursing=True, end="2026-11-30")
    world.certificate(on_dibao, grade=4)
    world.single_dibao(household, on_dibao)
    world.certificate(living, grade=3)
    world.single_dibao(household, living)
    world.subsidy(living, nursing=False)
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then grade 1-2 holders without a nursing subsidy in force, and a holder on dibao without a living one
    assert _subjects(engine, "C2") == {
        (severe, "NURSING_SUBSIDY"),
        (ended, "NURSING_SUBSIDY"),
        (on_dibao, "LIVING_SUBSIDY"),
    }
    # and the living subsidy's evidence holds the certificate and the award
    evidence = found(engine, "C2")[(on_dibao, "LIVING_SUBSIDY")]["evidence"]
    assert {record["table"] for record in evidence} == {"cjr", "dibao"}  # type: ignore[attr-defined]


def test_c3_a_student_from_a_poor_household_without_aid(engine: sa.Engine, tmp_path: Path) -> None:
    # given students on dibao, in a registered poor household, monitored only, with aid, and not enrolled
    world = World(tmp_path)
    poor, aided, watched = world.household(), world.household(), world.household()
    world.dibao(poor)
    world.registered_poor(aided)
    world.monitored(watched)
    on_dibao, not_enrolled, with_aid = world.person(poor, born="20150301"), world.person(poor), world.person(aided)
    only_monitored = world.person(watched, born="20140301")
    world.enrol(on_dibao)
    world.enrol(with_aid)
    world.student_aid(with_aid)
    world.enrol(only_monitored)
    world.enrol(not_enrolled, term="2025-2026-2")
    world.ingest(engine)
    # when the rules run for the term the as-of day falls in
    result = run_rules(engine)
    # then only the enrolled student with a C3 reason and no aid is found, with the enrolment and the award
    assert result.term == "2026-2027-1"
    assert _subjects(engine, "C3") == {(on_dibao, "STUDENT_AID")}
    evidence = found(engine, "C3")[(on_dibao, "STUDENT_AID")]["evidence"]
    assert [record["table"] for record in evidence] == ["dibao", "xsxj"]  # type: ignore[index]


def test_c4_inpatient_costs_without_medical_assistance(engine: sa.Engine, tmp_path: Path) -> None:
    # given persons on dibao or in extreme-poverty support with settlements inside and outside the window
    world = World(tmp_path)
    household, other = world.household(), world.household()
    world.dibao(household)
    patient, old, assisted, outpatient, paid_nothing = (world.person(household) for _ in range(5))
    supported, uncovered = world.person(other), world.person(other)
    world.tekun(supported)
    world.settlement(patient, discharged="20261201")  # on the day
    world.settlement(old, discharged="20251201")  # 12 months before: outside the window
    world.settlement(assisted, assisted=20000)
    world.settlement(outpatient, kind=1)
    world.settlement(paid_nothing, out_of_pocket=0)
    settled = world.settlement(supported, discharged="20251202")  # the first day of the window
    world.settlement(uncovered)
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then the inpatients without assistance inside the window who are on dibao or supported are found
    assert _subjects(engine, "C4") == {(patient, "MEDICAL_ASSISTANCE"), (supported, "MEDICAL_ASSISTANCE")}
    evidence = found(engine, "C4")[(supported, "MEDICAL_ASSISTANCE")]["evidence"]
    assert {(record["table"], record["recordKey"]) for record in evidence} == {  # type: ignore[attr-defined]
        ("jsxx", settled),
        ("tekun", f"{supported}|2023-05-01"),
    }
    values = next(record["values"] for record in evidence if record["table"] == "jsxx")  # type: ignore[attr-defined]
    assert values["diagnosis_code"] == "I63.9" and values["out_of_pocket"] == "500.00"


def test_c5_a_dangerous_house_not_renovated(engine: sa.Engine, tmp_path: Path) -> None:
    # given households on dibao or with a supported member, with houses assessed C, D or B, renovated or not
    world = World(tmp_path)
    grade_c, grade_d, renovated, safer, renovated_before, supported, no_aid = (world.household() for _ in range(7))
    for household in (grade_c, grade_d, renovated, safer, renovated_before):
        world.dibao(household)
    world.tekun(world.person(supported))
    latest = world.assessment(grade_c, on="2025-09-01", grade="C")
    world.assessment(grade_d, grade="D")
    world.assessment(renovated, on="2025-09-01")
    world.renovation(renovated, approved="2025-10-08")
    world.assessment(safer, on="2024-01-01", grade="D")
    world.assessment(safer, on="2025-01-01", grade="B")  # the latest assessment decides
    world.assessment(renovated_before, on="2025-09-01")
    world.renovation(renovated_before, approved="2025-08-31")  # before the assessment: does not count
    world.assessment(supported, grade="D")
    world.assessment(no_aid, grade="D")
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then the dangerous houses without a renovation since their latest assessment are found
    assert _subjects(engine, "C5") == {
        (grade_c, "RENOVATION"),
        (grade_d, "RENOVATION"),
        (renovated_before, "RENOVATION"),
        (supported, "RENOVATION"),
    }
    [record] = found(engine, "C5")[(grade_c, "RENOVATION")]["evidence"]  # type: ignore[misc]
    assert (record["table"], record["recordKey"], record["values"]["grade"]) == ("wfjd", latest, "C")


def test_c6_insured_without_contribution_subsidy(engine: sa.Engine, tmp_path: Path) -> None:
    # given persons on dibao insured with no subsidy category, no amount, a subsidy, or in another year
    world = World(tmp_path)
    household = world.household()
    world.dibao(household)
    no_category, no_amount, subsidised, last_year = (world.person(household) for _ in range(4))
    not_poor = world.person(world.household())
    world.insurance(no_category, category=0, subsidised=38000)
    world.insurance(no_amount, category=2, subsidised="")
    world.insurance(subsidised, category=2, subsidised=38000)
    world.insurance(last_year, year=2025, category=0)
    world.insurance(not_poor, category=0)
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then this year's records without a subsidy of persons on dibao are found
    assert _subjects(engine, "C6") == {(no_category, "CONTRIBUTION_SUBSIDY"), (no_amount, "CONTRIBUTION_SUBSIDY")}


def test_c7_a_child_without_welfare_allowance(engine: sa.Engine, tmp_path: Path) -> None:
    # given children with an ended allowance, an allowance of 0, one in force, and a person who just turned 18
    world = World(tmp_path)
    household = world.household()
    ended = world.person(household, born="20120101")
    zero = world.person(household, born="20100101", birth_date=None)  # the id's birth date counts
    paid = world.person(household, born="20120101")
    adult = world.person(household, born="20081201")  # 18 on the as-of day
    world.child_welfare(ended, start="2020-01-01", end="2022-12-31")
    latest = world.child_welfare(ended, start="2023-01-01", end="2026-06-30")
    world.child_welfare(zero, amount="0.00")
    world.child_welfare(paid)
    world.child_welfare(adult, end="2026-11-30")
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then the minors without an allowance in force are found, with their latest record as evidence
    assert _subjects(engine, "C7") == {(ended, "CHILD_WELFARE"), (zero, "CHILD_WELFARE")}
    [record] = found(engine, "C7")[(ended, "CHILD_WELFARE")]["evidence"]  # type: ignore[misc]
    assert record["recordKey"] == latest


def test_c8_a_dibao_household_above_the_standard_without_gradual_exit(engine: sa.Engine, tmp_path: Path) -> None:
    # given households on dibao checked above, at and below the standard, one in its gradual exit
    world = World(tmp_path)
    above, at, below, exiting, ended, unchecked = (world.household() for _ in range(6))
    for household in (above, at, below, unchecked):
        world.dibao(household)
    world.dibao(exiting, start="2024-01-01", end="2026-06-30", exit_until="2027-06-30")
    world.dibao(ended, start="2024-01-01", end="2026-06-30")
    world.check(above, "2026-06-01", 2, _income(URBAN_STANDARD + 1, 2))
    world.check(at, "2026-06-01", 1, _income(URBAN_STANDARD))
    world.check(below, "2026-06-01", 1, _income(URBAN_STANDARD - 1))
    for household in (exiting, ended):
        world.check(household, "2026-06-01", 1, _income(2000))
    world.ingest(engine)
    # when the rules run
    run_rules(engine)
    # then the households at or above the standard with an award in force and no exit window are found
    assert _subjects(engine, "C8") == {(above, "GRADUAL_EXIT"), (at, "GRADUAL_EXIT")}
    evidence = found(engine, "C8")[(at, "GRADUAL_EXIT")]["evidence"]
    assert [record["table"] for record in evidence] == ["bzbz", "dibao", "hdxx"]  # type: ignore[index]


def test_a_run_as_of_a_past_day_reads_the_records_a_newer_snapshot_closed(engine: sa.Engine, tmp_path: Path) -> None:
    # given a monitored household below the standard as of 1 November, whose monitoring record the
    # export of 30 November no longer carries (closed into history)
    import datetime as dt

    world = World(tmp_path)
    household = world.household()
    world.monitored(household)
    world.check(household, "2026-06-01", 1, _income(500))
    world.ingest(engine, as_of=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    world.drop("poverty/jcdx.csv", household)
    world.ingest(engine, as_of=dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
    # when the rules run as of 15 November and as of 1 December (today is later for both)
    past = run_rules(engine, day=dt.date(2026, 11, 15), today=dt.date(2027, 1, 1))
    now = run_rules(engine, day=dt.date(2026, 12, 1), today=dt.date(2027, 1, 1))
    # then the past run found the household from the history, and the later one did not
    assert set(found(engine, "C1", past)) == {(household, "DIBAO")}
    assert set(found(engine, "C1", now)) == set()
    # and each run says which ingest run of each department it read
    assert past.counts["C1"] == 1 and now.counts["C1"] == 0


def test_every_rule_reads_the_history_as_it_reads_the_current_tables(engine: sa.Engine, tmp_path: Path) -> None:
    # given a finding for every rule, ingested once
    import datetime as dt

    world = World(tmp_path)
    poor, housed = world.household(), world.household()
    world.monitored(poor)
    world.check(poor, "2026-06-01", 1, _income(500))
    world.dibao(housed)
    world.check(housed, "2026-06-01", 1, _income(2000))
    member, child = world.person(housed), world.person(housed, born="20150301")
    world.certificate(member, grade=1)
    world.enrol(child)
    world.settlement(member)
    world.insurance(member)
    world.assessment(housed, grade="D")
    world.child_welfare(world.person(housed, born="20120101"), end="2025-12-31")
    world.ingest(engine)
    # when the rules run as of the export's day, once with it as today and once through the history
    current = run_rules(engine)
    historic = run_rules(engine, today=dt.date(2027, 6, 1))
    # then every rule finds the same: the snapshot of a past day is the same statement over other tables
    assert current.counts == historic.counts
    assert all(count for count in current.counts.values()), current.counts
