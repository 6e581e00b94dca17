"""The comparison rules whose subject is a person (C2, C3, C4, C6, C7): one SQL statement each over a day's
snapshots, one row per (finding, evidence record), as casework/comparison/rules.py describes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters import civil_affairs, disability, education, medical
from adapters import vocabulary as v
from casework.comparison.conditions import (
    Scope,
    award_evidence,
    evidence,
    in_region,
    literal,
    on_dibao_or_in_support,
    person_awards,
    person_finding,
    person_on_dibao,
    registered_persons,
    statement,
    text,
)
from resolvers.rules.ages import under_age_sql
from resolvers.rules.periods import in_force_sql, in_window_sql
from resolvers.rules.terms import Term
from resolvers.students.eligibility import reason_sources

NURSING_GRADES = (1, 2)
"""C2: the certificate grades that call for the nursing subsidy."""
ADULT_AGE = 18
"""C7: a child-welfare allowance is for those under this age."""
STUDENT_REASONS = ("DIBAO", "EXTREME_POVERTY", "REGISTERED_POOR")
"""C3: the student-aid reasons that make a poor household's student a finding without aid."""


def c2(scope: Scope) -> sa.CompoundSelect[Any]:
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


def c3(scope: Scope) -> sa.CompoundSelect[Any]:
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


def c4(scope: Scope) -> sa.CompoundSelect[Any]:
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


def c6(scope: Scope) -> sa.CompoundSelect[Any]:
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


def c7(scope: Scope) -> sa.CompoundSelect[Any]:
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
