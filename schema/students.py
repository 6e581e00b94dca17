"""`eligibleStudents(region, term)`: proactive student aid (seed 001, DESIGN §4 and §6).

The list is computed set-based in SQL (resolvers.students.eligibility), a few statements per page; the students
themselves are then read in one batch and built as `Person`s, so the policy and the region filter
apply to them as to any person. `totalCount` is recounted only when the store's data changed
(resolvers.students.counts).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry

from adapters import fields, registry
from adapters.store import LoadRequest
from resolvers.context import Context
from resolvers.cursors import CursorKind
from resolvers.pagination import page_size, region_prefix
from resolvers.records import bad_input
from resolvers.students import eligibility as students
from resolvers.students.counts import eligible_count
from resolvers.students.presented import StudentPresenter
from schema.enums import Stage
from schema.pages import PageInfo
from schema.records import as_utc
from schema.registry import Person, prefetch_for

Info = strawberry.Info[Context, None]
CURSOR = CursorKind("student", fields.id_number)


@strawberry.enum(description="Why a student qualifies (DESIGN §4; the codes are fixed).")
class EligibilityReasonCode(Enum):
    DIBAO = "DIBAO"
    EXTREME_POVERTY = "EXTREME_POVERTY"
    CHILD_WELFARE = "CHILD_WELFARE"
    DISABILITY = "DISABILITY"
    REGISTERED_POOR = "REGISTERED_POOR"
    MONITORED = "MONITORED"
    LOW_INCOME = "LOW_INCOME"


@strawberry.type(description="One reason a student qualifies, with the department record it rests on.")
class EligibilityReason:
    code: EligibilityReasonCode | None
    department: str | None
    table: str | None = strawberry.field(description="The department's native table or file.")
    source_record: str | None = strawberry.field(description="The record's key in that table.")
    as_of: dt.datetime | None = strawberry.field(description="When the department's data was current.")


@strawberry.type(description="A student enrolled in the term who qualifies for aid, and why.")
class EligibleStudent:
    student: Person | None
    stage: Stage | None
    school_name: str | None
    school_code: str | None
    grade: int | None
    reasons: list[EligibilityReason] | None
    aid_granted: bool | None = strawberry.field(description="Whether aid is already recorded for the term.")


@strawberry.type
class EligibleStudentEdge:
    cursor: str
    node: EligibleStudent


@strawberry.type
class EligibleStudentConnection:
    edges: list[EligibleStudentEdge]
    page_info: PageInfo
    total_count: int


def _term(term: str) -> str:
    try:
        students.term_start(term)
    except ValueError as error:
        raise bad_input(f"term: {error}") from None
    return term


async def eligible_students(
    info: Info, region: str, term: str, stage: Stage | None, first: int | None, after: str | None
) -> EligibleStudentConnection:
    context = info.context
    regions = context.access.visible(region_prefix(region))
    limit = page_size(first)
    start_after = context.cursors.open(CURSOR, after)
    stage_name = stage.name if stage is not None else None
    connection = context.connection()
    found = students.eligible_page(
        connection, term=_term(term), regions=regions, stage=stage_name, after=start_after, limit=limit + 1
    )
    page = found[:limit]
    ids = [entry.id_number for entry in page]
    await context.cache.prefetch([LoadRequest(registry.PERSONS, "id_number", ids)])
    persons = {
        record["id_number"]: record for key in ids for record in context.records(registry.PERSONS, "id_number", key)
    }
    await prefetch_for(info, Person, list(persons.values()), path=("edges", "node", "student"))
    presenter = StudentPresenter(context.access)
    edges = [
        EligibleStudentEdge(
            cursor=context.cursors.seal(CURSOR, entry.id_number), node=_node(context, presenter, entry, persons)
        )
        for entry in page
    ]
    return EligibleStudentConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(found) > limit,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=eligible_count(connection, term=term, regions=regions, stage=stage_name),
    )


def _node(
    context: Context, presenter: StudentPresenter, entry: students.EligibleStudent, persons: dict[str, Any]
) -> EligibleStudent:
    access = context.access
    shown = presenter.student(entry)
    reasons = None
    if shown["reasons"] is not None:
        reasons = [
            EligibilityReason(
                code=EligibilityReasonCode[reason["code"]] if reason["code"] is not None else None,
                department=reason["department"],
                table=reason["table"],
                source_record=reason["source_record"],
                as_of=as_utc(reason["as_of"]) if reason["as_of"] is not None else None,
            )
            for reason in shown["reasons"]
        ]
    person = persons.get(entry.id_number)
    return EligibleStudent(
        student=Person.from_record(access, person) if person is not None else None,
        stage=Stage[shown["stage"]] if shown["stage"] is not None else None,
        school_name=shown["school_name"],
        school_code=shown["school_code"],
        grade=shown["grade"],
        reasons=reasons,
        aid_granted=shown["aid_granted"],
    )
