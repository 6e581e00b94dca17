"""The comparison rules whose subject is a household (C1, C5, C8): one SQL statement each over a day's
snapshots, one row per (finding, evidence record), as casework/comparison/rules.py describes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters import civil_affairs, housing, poverty, registry
from adapters import vocabulary as v
from casework.comparison.conditions import (
    Scope,
    evidence,
    household_finding,
    household_on_dibao,
    in_region,
    in_support,
    statement,
    text,
)
from resolvers.rules import income
from resolvers.rules import poverty as poverty_rule
from resolvers.rules.periods import in_force_sql

HOUSE_GRADES = (v.HouseGrade.C.name, v.HouseGrade.D.name)
"""Dangerous houses (C5): grades C and D."""


def c1(scope: Scope) -> sa.CompoundSelect[Any]:
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


def c5(scope: Scope) -> sa.CompoundSelect[Any]:
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


def c8(scope: Scope) -> sa.CompoundSelect[Any]:
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
