"""The root Query type: the outside contract's entry points (DESIGN §6).

Each root field first asks the request's access whether it may be used (`enter`): an entry point
serves declared purposes only and is granted by the policy like a field (auth.entry_points).
"""

from __future__ import annotations

import strawberry

from resolvers import households as logic
from resolvers.context import Context
from resolvers.lookups import locate_household, locate_person
from resolvers.records import forbidden
from schema import alerts as alert_ledger
from schema import casework
from schema.audit import AccessLogConnection, access_log
from schema.enums import Stage
from schema.pages import PageInfo
from schema.registry import Household, Person, prefetch_for, show_household, show_person
from schema.students import EligibleStudentConnection, eligible_students

Info = strawberry.Info[Context, None]


def enter(info: Info, field_name: str) -> None:
    """Refuse the root field with FORBIDDEN before anything is read, unless the request may use it."""
    problem = info.context.access.enter(field_name)
    if problem is not None:
        raise forbidden(problem)


@strawberry.type
class HouseholdEdge:
    cursor: str
    node: Household


@strawberry.type
class HouseholdConnection:
    edges: list[HouseholdEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="Key target households and persons of one county (seed 000, Annex 2).")
class KeyTargetRow:
    county_code: str
    county_name: str | None
    unstable_households: int = strawberry.field(description="Lifted out of poverty but unstable (jclx=1).")
    unstable_persons: int
    epidemic_households: int = strawberry.field(description="Affected by the epidemic (risk cause 6).")
    epidemic_persons: int


@strawberry.type
class Query:
    @strawberry.field(description="A household by its household number (户号).")
    async def household(self, info: Info, household_number: str) -> Household | None:
        enter(info, "household")
        found = await locate_household(
            info.context, logic.checked_household_number(household_number), entry_point="household"
        )
        return await show_household(info, found) if found is not None else None

    @strawberry.field(description="A person by resident id, in 18- or legacy 15-digit form.")
    async def person(self, info: Info, id_number: str) -> Person | None:
        enter(info, "person")
        found = await locate_person(info.context, logic.canonical_id(id_number), entry_point="person")
        return await show_person(info, found) if found is not None else None

    @strawberry.field(description="Households whose division code starts with `region`, in household-number order.")
    async def households(
        self, info: Info, region: str, first: int | None = None, after: str | None = None
    ) -> HouseholdConnection:
        enter(info, "households")
        page = logic.households_page(info.context, region=region, first=first, after=after)
        await prefetch_for(info, Household, page.records, path=("edges", "node"))
        edges = [
            HouseholdEdge(cursor=cursor, node=Household.from_record(info.context.access, record))
            for cursor, record in zip(page.cursors, page.records, strict=True)
        ]
        return HouseholdConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            total_count=page.total_count,
        )

    @strawberry.field(
        description="Students enrolled in the term who qualify for aid without applying (seed 001), by id number."
    )
    async def eligible_students(
        self,
        info: Info,
        region: str,
        term: str,
        stage: Stage | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> EligibleStudentConnection:
        enter(info, "eligibleStudents")
        return await eligible_students(info, region, term, stage, first, after)

    @strawberry.field(description="Who read this person's data, newest first (auditors, purpose audit).")
    async def access_log(
        self, info: Info, id_number: str, first: int | None = None, after: str | None = None
    ) -> AccessLogConnection:
        enter(info, "accessLog")
        canonical = logic.canonical_id(id_number)
        found = await locate_person(info.context, canonical, entry_point="accessLog")
        return access_log(info, canonical, first, after, visible=found is not None)

    @strawberry.field(description="Key target households and persons by county (seed 000, Annex 2).")
    def key_target_distribution(self, info: Info, region: str) -> list[KeyTargetRow]:
        enter(info, "keyTargetDistribution")
        return [KeyTargetRow(**vars(row)) for row in logic.key_target_distribution(info.context, region=region)]

    @strawberry.field(description="Comparison runs overlapping the region, newest first (purpose comparison).")
    def comparison_runs(
        self, info: Info, region: str, first: int | None = None, after: str | None = None
    ) -> casework.ComparisonRunConnection:
        enter(info, "comparisonRuns")
        return casework.comparison_runs(info, region, first, after)

    @strawberry.field(description="One comparison run, with the items it found inside the caller's regions.")
    def comparison_run(self, info: Info, id: strawberry.ID) -> casework.ComparisonRun | None:
        enter(info, "comparisonRun")
        return casework.comparison_run(info, str(id))

    @strawberry.field(description="Early-warning alerts of the region, newest first (purpose case-management).")
    async def alerts(
        self,
        info: Info,
        region: str,
        status: str | None = None,
        kind: str | None = None,
        overdue: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> alert_ledger.AlertConnection:
        enter(info, "alerts")
        return await alert_ledger.alerts(info, region, status, kind, overdue, first, after)
