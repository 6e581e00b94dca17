"""The eight comparison rules (docs/comparison.md), C1 to C8 in this order, each one SQL statement.

A rule names its subject kind (household or person), the programmes it finds missing, and the
departments it reads (when one of them has no snapshot on the as-of day, the rule is not evaluated).
Its `build` gives the statement over the day's snapshots: one row per (finding, evidence record),
columns `conditions.FINDING_COLUMNS` then department, source_table, record_key; the statements of
household rules are in household_rules.py, those of person rules in person_rules.py. The same Core
statement runs on SQLite and PostgreSQL; the rules they use come from resolvers/rules/ and, for C3,
from student aid's own reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from casework.comparison.conditions import Scope
from casework.comparison.household_rules import HOUSE_GRADES, c1, c5, c8
from casework.comparison.person_rules import ADULT_AGE, NURSING_GRADES, STUDENT_REASONS, c2, c3, c4, c6, c7
from resolvers.rules.periods import WINDOW_MONTHS

RULES_VERSION = "2026-12-01"
"""Raised whenever a rule's condition or evidence changes: a run records the version it applied."""

THRESHOLDS: dict[str, Any] = {
    "window_months": WINDOW_MONTHS,
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


_CIVIL = "civil_affairs"
RULES: tuple[Rule, ...] = (
    Rule("C1", "低保应保未保", "poor household below the standard, not on dibao", "household", ("DIBAO",),
         ("registry", _CIVIL, "poverty"), c1),
    Rule("C2", "残疾人两项补贴", "disabled person without the two subsidies", "person",
         ("NURSING_SUBSIDY", "LIVING_SUBSIDY"), ("registry", "disability", _CIVIL), c2),
    Rule("C3", "困难学生未资助", "student from a poor household without aid", "person", ("STUDENT_AID",),
         ("registry", "education", _CIVIL, "poverty"), c3, needs_term=True),
    Rule("C4", "医疗救助未覆盖", "inpatient costs without medical assistance", "person", ("MEDICAL_ASSISTANCE",),
         ("registry", "medical", _CIVIL), c4),
    Rule("C5", "危房未改造", "dangerous house not renovated", "household", ("RENOVATION",),
         ("registry", "housing", _CIVIL), c5),
    Rule("C6", "参保未资助", "insured without contribution subsidy", "person", ("CONTRIBUTION_SUBSIDY",),
         ("registry", "medical", _CIVIL), c6),
    Rule("C7", "困境儿童未保障", "child without welfare allowance", "person", ("CHILD_WELFARE",),
         ("registry", _CIVIL), c7),
    Rule("C8", "低保渐退未设", "dibao household above the standard without gradual exit", "household",
         ("GRADUAL_EXIT",), ("registry", _CIVIL), c8),
)  # fmt: skip
BY_CODE = {rule.code: rule for rule in RULES}
