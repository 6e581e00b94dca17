"""The alerts of the early warning as caseworkers and the poverty office read them: one alert, and a page of them.

Read through `casework.queries`, inside the caller's regions, like the comparison's ledger (schema/casework.py,
whose shared pieces these types use: evidence, history, the household, cursors). The mutation is in
schema/mutation.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry

from auth.access import Access
from casework import lifecycle, queries
from resolvers.pagination import page_size, region_prefix
from schema.casework import (
    ALERT,
    ALERT_CURSOR,
    CaseworkChange,
    Evidence,
    Info,
    checked,
    evidence_of,
    fetch_subjects,
    history_of,
    household_of,
    page_info,
    path_of,
)
from schema.pages import PageInfo
from schema.records import as_utc
from schema.registry import Household


@strawberry.type(description="An early warning of a household sliding back into poverty (seeds 000, 004).")
class Alert:
    id: strawberry.ID | None
    kind: str | None = strawberry.field(description="MEDICAL_COSTS, SEVERE_DISABILITY, TEMPORARY_ASSISTANCE, …")
    status: str | None
    level: str | None = strawberry.field(description="township, or county once it was overdue.")
    emergency: bool | None
    raised_at: dt.datetime | None
    due_at: dt.datetime | None = strawberry.field(description="When it must be acknowledged.")
    overdue: bool | None = strawberry.field(description="Still RAISED after it was due.")
    evidence: list[Evidence] | None
    reason_code: str | None
    note: str | None
    history: list[CaseworkChange] | None
    version: int | None = strawberry.field(description="Pass it back with a change: a newer one is a CONFLICT.")
    household_key: strawberry.Private[str]

    @classmethod
    def from_row(
        cls, access: Access, row: Mapping[str, Any], history: Sequence[Mapping[str, Any]], path: str, now: dt.datetime
    ) -> Alert:
        due = as_utc(row["due_at"])
        values: dict[str, Any] = {
            "id": strawberry.ID(str(row["id"])),
            "kind": row["kind"],
            "status": row["status"],
            "level": row["level"],
            "emergency": row["emergency"],
            "raised_at": as_utc(row["raised_at"]),
            "due_at": due,
            "overdue": lifecycle.overdue(status=row["status"], due=due, now=now),
            "evidence": None
            if access.withholds("Alert", "evidence")
            else evidence_of(access, row["evidence"], None, f"{path}.evidence"),
            "reason_code": row["reason_code"],
            "note": row["note"],
            "history": history_of(access, history),
            "version": row["version"],
        }
        access.apply("Alert", values, {})
        return cls(**values, household_key=row["household_number"])

    @strawberry.field(description="The household the alert is about.")
    def household(self, info: Info) -> Household | None:
        return household_of(info, "Alert", self.household_key)


@strawberry.type
class AlertEdge:
    cursor: str
    node: Alert


@strawberry.type
class AlertConnection:
    edges: list[AlertEdge]
    page_info: PageInfo


async def alerts(
    info: Info,
    region: str,
    status: str | None,
    kind: str | None,
    overdue: bool | None,
    first: int | None,
    after: str | None,
) -> AlertConnection:
    context = info.context
    checked(status, lifecycle.ALERT_STATUSES, "status")
    prefixes = context.access.visible(region_prefix(region))
    limit = page_size(first)
    start = context.cursors.open(ALERT_CURSOR, after)
    now = dt.datetime.now(dt.UTC)
    connection = context.connection()
    found = queries.alerts_page(
        connection,
        prefixes=prefixes,
        status=status,
        kind=kind,
        overdue=overdue,
        now=now,
        after=int(start) if start is not None else None,
        limit=limit + 1,
    )
    rows = found[:limit]
    await fetch_subjects(info, rows, ("edges", "node"))
    histories = queries.histories(connection, ALERT, [row["id"] for row in rows])
    path = path_of(info, "edges", "node")
    edges = [
        AlertEdge(
            cursor=context.cursors.seal(ALERT_CURSOR, str(row["id"])),
            node=Alert.from_row(context.access, row, histories[row["id"]], path, now),
        )
        for row in rows
    ]
    return AlertConnection(edges=edges, page_info=page_info(edges, len(found) > limit, after))
