"""The eight comparison rules (DESIGN §4, docs/comparison.md), C1 to C8 in this order, each one SQL statement.

A rule names its subject kind (household or person), the programmes it finds missing, and the
departments it reads (when one of them has no snapshot on the as-of day, the rule is not evaluated).
Its `build` gives the statement over the day's snapshots: one row per (finding, evidence record),
columns `conditions.FINDING_COLUMNS` then department, source_table, record_key. The same Core
statement runs on SQLite and PostgreSQL; the rules they use come from resolvers/rules/ and, for C3,
from student aid's own reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from adapters import civil_affairs, disability, education, housing, medical, poverty, registry
from adapters import vocabulary as v
from casework.comparison.conditions import (
    Scope,
    award_evidence,
    evidence,
    household_finding,
    household_on_dibao,
    in_region,
    in_support,
    literal,
    on_dibao_or_in_support,
    person_awards,
    person_finding,
    person_on_dibao,
    registered_persons,
    statement,
    text,
)
from resolvers.rules import income
from resolvers.rules import poverty as poverty_rule
from resolvers.rules.ages import under_age_sql
from resolvers.rules.periods import in_force_sql, in_window_sql
from resolvers.rules.terms import Term
from resolvers.students.eligibility import reason_sources

RULES_VERSION = "2026-12-01"
"""Raised whenever a rule's condition or evidence changes: a run records the version it applied."""

NURSING_GRADES = (1, 2)
HOUSE_GRADES = (v.HouseGrade.C.name, v.HouseGrade.D.name)
ADULT_AGE = 18
STUDENT_REASONS = ("DIBAO", "EXTREME_POVERTY", "REGISTERED_POOR")
THRESHOLDS: dict[str, Any] = {
    "window_months": 12,
    "nursing_subsidy_grades": list(NURSING_GRADES),
    "dangerous_house_grades": list(HOUSE_GRADES),
    "child_under_age": ADULT_AGE,
    "student_aid_reasons": list(STUDENT_REASONS),
}
"""The rules' parameters, stored with every run."""


@dataclass(frozen=True)
class Rule:
    code: str
    zh: str
    en: str
    subject: Literal["household", "person"]
    programmes: tuple[str, ...]
    departments: tuple[str, ...]
    build: Callable[[Scope], sa.CompoundSelect[Any]]
    needs_term: bool = False


def _c1(scope: Scope) -> sa.CompoundSelect[Any]:
    households, check = scope(registry.HOUSEHOLDS), scope(civil_affairs.ECONOMIC_CHECK)
    standards, award = scope(civil_affairs.DIBAO_STANDARD), scope(civil_affairs.DIBAO)
    registered, monitored = scope(poverty.REGISTERED_POOR), scope(poverty.MONITORED)
    standard = income.standard_sql(standards, household=households, checked_on=check.c.checked_on)
    standard_key = income.standard_sql(
        standards, household=households, checked_on=check.c.checked_on, column="record_key"
    )

    def poor(household: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return poverty_rule.registered_poor_on_sql(registered, household_number=household, year=scope.year_sql)

    def watched(household: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return poverty_rule.monitored_on_sql(monitored, household_number=household, day=scope.day_sql)

    findings = (
        sa.select(
            *household_finding(households, "DIBAO"),
            check.c.record_key.label("check_key"),
            standard_key.label("standard_key"),
        )
        .select_from(households.join(check, check.c.household_number == households.c.household_number))
        .where(
            in_region(scope, households),
            income.latest_check_sql(check, day=scope.day_sql),
            income.below_standard_sql(check, standard=standard),
            sa.or_(
                sa.exists().where(poor(households.c.household_number)),
                sa.exists().where(watched(households.c.household_number)),
            ),
            ~sa.exists().where(household_on_dibao(scope, award, households.c.household_number)),
        )
        .cte("c1_finding")
    )
    return statement(
        findings,
        [
            evidence(findings, poverty.REGISTERED_POOR, registered, poor(findings.c.household_number)),
            evidence(findings, poverty.MONITORED, monitored, watched(findings.c.household_number)),
            evidence(findings, civil_affairs.ECONOMIC_CHECK, check, check.c.record_key == findings.c.check_key),
            evidence(
                findings, civil_affairs.DIBAO_STANDARD, standards, standards.c.record_key == findings.c.standard_key
            ),
        ],
    )


def _c2(scope: Scope) -> sa.CompoundSelect[Any]:
    persons, households, registered = registered_persons(scope)
    certificate, subsidy = scope(disability.CERTIFICATE), scope(disability.SUBSIDY)
    day = scope.day_sql

    def valid(holder: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return sa.and_(
            certificate.c.id_number == holder,
            sa.or_(certificate.c.issued_on.is_(None), certificate.c.issued_on <= day),
            sa.or_(certificate.c.valid_until.is_(None), certificate.c.valid_until >= day),
        )

    def subsidised(kind: v.DisabilitySubsidyKind) -> sa.ColumnElement[bool]:
        return sa.exists().where(
            subsidy.c.id_number == persons.c.id_number,
            subsidy.c.kind == text(kind.name),
            in_force_sql(subsidy.c.start_date, subsidy.c.end_date, day=day),
        )

    severe = certificate.c.grade.in_([literal(grade, sa.Integer()) for grade in NURSING_GRADES])
    nursing = (
        sa.select(*person_finding(persons, households, "NURSING_SUBSIDY"))
        .select_from(registered)
        .where(
            in_region(scope, households),
            sa.exists().where(valid(persons.c.id_number), severe),
            ~subsidised(v.DisabilitySubsidyKind.NURSING),
        )
    )
    living = (
        sa.select(*person_finding(persons, households, "LIVING_SUBSIDY"))
        .select_from(registered)
        .where(
            in_region(scope, households),
            sa.exists().where(valid(persons.c.id_number)),
            person_on_dibao(scope, id_number=persons.c.id_number, household=persons.c.household_number),
            ~subsidised(v.DisabilitySubsidyKind.LIVING),
        )
    )
    findings = sa.union_all(nursing, living).cte("c2_finding")
    is_nursing = findings.c.programme == text("NURSING_SUBSIDY")
    award = scope(civil_affairs.DIBAO)
    ways = person_awards(scope, award, id_number=findings.c.id_number, household=findings.c.household_number)
    return statement(
        findings,
        [
            evidence(
                findings,
                disability.CERTIFICATE,
                certificate,
                sa.and_(valid(findings.c.id_number), sa.or_(~is_nursing, severe)),
            ),
            *(evidence(findings, civil_affairs.DIBAO, award, way).where(~is_nursing) for way in ways),
        ],
    )


def _c3(scope: Scope) -> sa.CompoundSelect[Any]:
    assert scope.term is not None, "C3 needs a term"
    persons, households, registered = registered_persons(scope)
    enrolment, aid = scope(education.ENROLMENT), scope(education.STUDENT_AID)
    term = literal(scope.term, sa.String())
    start = Term.parse(scope.term).start

    def enrolled(student: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return sa.and_(
            enrolment.c.id_number == student,
            enrolment.c.term == term,
            enrolment.c.status == text(v.EnrolmentStatus.ENROLLED.name),
        )

    reasons = reason_sources(
        STUDENT_REASONS,
        id_number=persons.c.id_number,
        household_number=persons.c.household_number,
        day=start,
        tables=scope.tables,
    )
    findings = (
        sa.select(*person_finding(persons, households, "STUDENT_AID"))
        .select_from(registered)
        .where(
            in_region(scope, households),
            sa.exists().where(enrolled(persons.c.id_number)),
            sa.or_(*(sa.exists().where(reason.holds) for reason in reasons)),
            ~sa.exists().where(aid.c.id_number == persons.c.id_number, aid.c.term == term),
        )
        .cte("c3_finding")
    )
    found = reason_sources(
        STUDENT_REASONS,
        id_number=findings.c.id_number,
        household_number=findings.c.household_number,
        day=start,
        tables=scope.tables,
    )
    return statement(
        findings,
        [
            evidence(findings, education.ENROLMENT, enrolment, enrolled(findings.c.id_number)),
            *(evidence(findings, reason.spec, reason.record, reason.holds) for reason in found),
        ],
    )


def _c4(scope: Scope) -> sa.CompoundSelect[Any]:
    persons, households, registered = registered_persons(scope)
    settlement = scope(medical.SETTLEMENT)

    def unassisted(patient: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return sa.and_(
            settlement.c.id_number == patient,
            settlement.c.kind == text(v.SettlementKind.INPATIENT.name),
            in_window_sql(settlement.c.to_date, day=scope.day, months=scope.window_months),
            settlement.c.out_of_pocket > 0,
            sa.or_(settlement.c.medical_assistance_paid.is_(None), settlement.c.medical_assistance_paid == 0),
        )

    findings = (
        sa.select(*person_finding(persons, households, "MEDICAL_ASSISTANCE"))
        .select_from(registered)
        .where(
            in_region(scope, households),
            on_dibao_or_in_support(scope, id_number=persons.c.id_number, household=persons.c.household_number),
            sa.exists().where(unassisted(persons.c.id_number)),
        )
        .cte("c4_finding")
    )
    return statement(
        findings,
        [
            evidence(findings, medical.SETTLEMENT, settlement, unassisted(findings.c.id_number)),
            *award_evidence(scope, findings),
        ],
    )


def _c5(scope: Scope) -> sa.CompoundSelect[Any]:
    households, award = scope(registry.HOUSEHOLDS), scope(civil_affairs.DIBAO)
    members, support = scope(registry.PERSONS), scope(civil_affairs.EXTREME_POVERTY)
    assessment, renovation = scope(housing.ASSESSMENT), scope(housing.RENOVATION)
    newer = assessment.alias("newer_assessment")
    day = scope.day_sql
    # The latest assessment of the household by D; of two on one day, the higher assessment number.
    latest = sa.and_(
        assessment.c.household_number == households.c.household_number,
        assessment.c.assessed_on <= day,
        ~sa.exists().where(
            newer.c.household_number == assessment.c.household_number,
            newer.c.assessed_on <= day,
            sa.or_(
                newer.c.assessed_on > assessment.c.assessed_on,
                sa.and_(newer.c.assessed_on == assessment.c.assessed_on, newer.c.record_key > assessment.c.record_key),
            ),
        ),
    )
    member_supported = sa.exists().where(
        members.c.household_number == households.c.household_number, in_support(scope, support, members.c.id_number)
    )
    findings = (
        sa.select(*household_finding(households, "RENOVATION"), assessment.c.record_key.label("assessment_key"))
        .select_from(households.join(assessment, latest))
        .where(
            in_region(scope, households),
            assessment.c.grade.in_([text(grade) for grade in HOUSE_GRADES]),
            sa.or_(
                sa.exists().where(household_on_dibao(scope, award, households.c.household_number)), member_supported
            ),
            ~sa.exists().where(
                renovation.c.household_number == households.c.household_number,
                renovation.c.approved_on >= assessment.c.assessed_on,
                renovation.c.approved_on <= day,
            ),
        )
        .cte("c5_finding")
    )
    on = assessment.c.record_key == findings.c.assessment_key
    return statement(findings, [evidence(findings, housing.ASSESSMENT, assessment, on)])


def _c6(scope: Scope) -> sa.CompoundSelect[Any]:
    persons, households, registered = registered_persons(scope)
    insurance = scope(medical.INSURANCE)

    def unsubsidised(insured: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return sa.and_(
            insurance.c.id_number == insured,
            insurance.c.year == scope.year_sql,
            sa.or_(
                insurance.c.subsidy_category == text(v.ContributionSubsidy.NONE.name),
                insurance.c.subsidised_amount.is_(None),
                insurance.c.subsidised_amount == 0,
            ),
        )

    findings = (
        sa.select(*person_finding(persons, households, "CONTRIBUTION_SUBSIDY"))
        .select_from(registered)
        .where(
            in_region(scope, households),
            on_dibao_or_in_support(scope, id_number=persons.c.id_number, household=persons.c.household_number),
            sa.exists().where(unsubsidised(persons.c.id_number)),
        )
        .cte("c6_finding")
    )
    return statement(
        findings,
        [
            evidence(findings, medical.INSURANCE, insurance, unsubsidised(findings.c.id_number)),
            *award_evidence(scope, findings),
        ],
    )


def _c7(scope: Scope) -> sa.CompoundSelect[Any]:
    persons, households, registered = registered_persons(scope)
    child = scope(civil_affairs.CHILD_WELFARE)
    paid = child.alias("paid_welfare")
    newer = child.alias("newer_welfare")
    findings = (
        sa.select(*person_finding(persons, households, "CHILD_WELFARE"))
        .select_from(registered)
        .where(
            in_region(scope, households),
            under_age_sql(persons.c.birth_date, persons.c.id_number, day=scope.day, age=ADULT_AGE),
            sa.exists().where(child.c.id_number == persons.c.id_number),
            ~sa.exists().where(
                paid.c.id_number == persons.c.id_number,
                in_force_sql(paid.c.start_date, paid.c.end_date, day=scope.day_sql),
                paid.c.monthly_amount > 0,
            ),
        )
        .cte("c7_finding")
    )
    latest = sa.and_(
        child.c.id_number == findings.c.id_number,
        ~sa.exists().where(
            newer.c.id_number == child.c.id_number,
            sa.or_(
                newer.c.start_date > child.c.start_date,
                sa.and_(newer.c.start_date == child.c.start_date, newer.c.record_key > child.c.record_key),
            ),
        ),
    )
    return statement(findings, [evidence(findings, civil_affairs.CHILD_WELFARE, child, latest)])


def _c8(scope: Scope) -> sa.CompoundSelect[Any]:
    households, check = scope(registry.HOUSEHOLDS), scope(civil_affairs.ECONOMIC_CHECK)
    standards, award = scope(civil_affairs.DIBAO_STANDARD), scope(civil_affairs.DIBAO)
    standard = income.standard_sql(standards, household=households, checked_on=check.c.checked_on)
    standard_key = income.standard_sql(
        standards, household=households, checked_on=check.c.checked_on, column="record_key"
    )

    def without_exit(household: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        # In force by its own dates (not in an exit window), with no exit window set.
        return sa.and_(
            award.c.household_number == household,
            award.c.coverage == text(v.DibaoCoverage.WHOLE_HOUSEHOLD.name),
            in_force_sql(award.c.start_date, award.c.end_date, day=scope.day_sql),
            award.c.gradual_exit_until.is_(None),
        )

    findings = (
        sa.select(
            *household_finding(households, "GRADUAL_EXIT"),
            check.c.record_key.label("check_key"),
            standard_key.label("standard_key"),
        )
        .select_from(households.join(check, check.c.household_number == households.c.household_number))
        .where(
            in_region(scope, households),
            income.latest_check_sql(check, day=scope.day_sql),
            standard.is_not(None),
            sa.not_(income.below_standard_sql(check, standard=standard)),
            sa.exists().where(without_exit(households.c.household_number)),
        )
        .cte("c8_finding")
    )
    return statement(
        findings,
        [
            evidence(findings, civil_affairs.DIBAO, award, without_exit(findings.c.household_number)),
            evidence(findings, civil_affairs.ECONOMIC_CHECK, check, check.c.record_key == findings.c.check_key),
            evidence(
                findings, civil_affairs.DIBAO_STANDARD, standards, standards.c.record_key == findings.c.standard_key
            ),
        ],
    )


_CIVIL = "civil_affairs"
RULES: tuple[Rule, ...] = (
    Rule("C1", "低保应保未保", "poor household below the standard, not on dibao", "household", ("DIBAO",),
         ("registry", _CIVIL, "poverty"), _c1),
    Rule("C2", "残疾人两项补贴", "disabled person without the two subsidies", "person",
         ("NURSING_SUBSIDY", "LIVING_SUBSIDY"), ("registry", "disability", _CIVIL), _c2),
    Rule("C3", "困难学生未资助", "student from a poor household without aid", "person", ("STUDENT_AID",),
         ("registry", "education", _CIVIL, "poverty"), _c3, needs_term=True),
    Rule("C4", "医疗救助未覆盖", "inpatient costs without medical assistance", "person", ("MEDICAL_ASSISTANCE",),
         ("registry", "medical", _CIVIL), _c4),
    Rule("C5", "危房未改造", "dangerous house not renovated", "household", ("RENOVATION",),
         ("registry", "housing", _CIVIL), _c5),
    Rule("C6", "参保未资助", "insured without contribution subsidy", "person", ("CONTRIBUTION_SUBSIDY",),
         ("registry", "medical", _CIVIL), _c6),
    Rule("C7", "困境儿童未保障", "child without welfare allowance", "person", ("CHILD_WELFARE",),
         ("registry", _CIVIL), _c7),
    Rule("C8", "低保渐退未设", "dibao household above the standard without gradual exit", "household",
         ("GRADUAL_EXIT",), ("registry", _CIVIL), _c8),
)  # fmt: skip
BY_CODE = {rule.code: rule for rule in RULES}
