"""The casework ledgers for caseworkers and department systems: comparison runs and their items, alerts.

Read through `casework.queries`, inside the caller's regions: an item or alert outside them does not exist
for the caller, as one never issued does not. Items and alerts are governed types (auth/labels.py), built
through `Access.apply` like every record; their `household` and `person` are the schema's own `Household`
and `Person`, so the policy applies to them as everywhere; their evidence values are shown under the
fields they come from (auth/evidence.py). Alerts are in schema/alerts.py, the mutations in schema/mutation.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from adapters import registry as department
from adapters.store import LoadRequest
from auth.access import Access
from auth.evidence import present_evidence
from casework import lifecycle, queries
from resolvers.context import Context
from resolvers.cursors import CursorKind
from resolvers.pagination import page_size, region_prefix
from resolvers.prefetch import prefetch
from resolvers.records import bad_input
from schema.pages import PageInfo
from schema.records import as_utc
from schema.registry import Household, Person

Info = strawberry.Info[Context, None]

ITEM = "item"
ALERT = "alert"


def _row_id(text: str) -> str:
    """A row id as the lists' cursors hold it: digits, no sign, no leading zero."""
    if not text.isdigit() or text != str(int(text)):
        raise ValueError(f"{text!r} is no row id")
    return text


RUN_CURSOR = CursorKind("comparison-run", _row_id)
ALERT_CURSOR = CursorKind("alert", _row_id)


def item_cursor(run_id: int) -> CursorKind:
    """A run's items: a cursor of one run's list does not open another's."""
    return CursorKind(f"comparison-run-{run_id}-items", _row_id)


def parse_id(text: str) -> int | None:
    """The row an id names; None for text that names no row (answered as for an id never issued)."""
    return int(text) if text.isdigit() and len(text) <= 18 else None


def checked(value: str | None, allowed: Sequence[str], argument: str) -> str | None:
    if value is not None and value not in allowed:
        raise bad_input(f"{argument}: {value!r} is not one of {', '.join(allowed)}")
    return value


@strawberry.type(description="A department record a finding rests on: its values are shown as its own fields are.")
class Evidence:
    department: str | None
    table: str | None = strawberry.field(description="The department's native table or file.")
    record_key: str | None
    values: JSON | None = strawberry.field(
        description="The record's columns as stored, each shown under the policy of its field; withheld ones null."
    )


@strawberry.type(description="One change of an item or alert: who, when, from which status to which, and why.")
class CaseworkChange:
    at: dt.datetime | None
    actor: str | None = strawberry.field(description="A caseworker as `client-id/actor`, or `aidgraph` itself.")
    from_: str | None = strawberry.field(name="from", description="The status before; null when created.")
    to: str | None
    reason_code: str | None
    note: str | None


def evidence_of(
    access: Access, stored: Sequence[Mapping[str, Any]], subject_id: str | None, path: str
) -> list[Evidence]:
    return [Evidence(**fields) for fields in present_evidence(access, stored, subject_id=subject_id, path=path)]


def history_of(access: Access, rows: Sequence[Mapping[str, Any]]) -> list[CaseworkChange]:
    shown = []
    for row in rows:
        fields = {
            "at": as_utc(row["at"]),
            "actor": row["actor"],
            "from": row["from_status"],
            "to": row["to_status"],
            "reason_code": row["reason_code"],
            "note": row["note"],
        }
        access.apply("CaseworkChange", fields, row)
        shown.append(CaseworkChange(from_=fields.pop("from"), **fields))
    return shown


def path_of(info: Info, *below: str) -> str:
    """The response path of a field below the one resolving, without list indexes (as `withheld` says it)."""
    keys = [str(key) for key in info.path.as_list() if isinstance(key, str)]
    return ".".join([*keys, *below])


@strawberry.type(description="A finding of a comparison run: someone the rule says lacks a programme (工作台账).")
class ComparisonItem:
    id: strawberry.ID | None
    rule: str | None = strawberry.field(description="C1 … C8 (docs/comparison.md).")
    programme: str | None = strawberry.field(description="The programme the subject lacks.")
    status: str | None
    evidence: list[Evidence] | None
    reason_code: str | None
    note: str | None
    assignee: str | None
    covered_by: str | None = strawberry.field(description="COVERED: the programme that now covers.")
    covered_on: dt.date | None
    history: list[CaseworkChange] | None
    version: int | None = strawberry.field(description="Pass it back with a change: a newer one is a CONFLICT.")
    household_key: strawberry.Private[str]
    id_number_key: strawberry.Private[str | None]

    @classmethod
    def from_row(
        cls, access: Access, row: Mapping[str, Any], history: Sequence[Mapping[str, Any]], path: str
    ) -> ComparisonItem:
        values: dict[str, Any] = {
            "id": strawberry.ID(str(row["id"])),
            "rule": row["rule"],
            "programme": row["programme"],
            "status": row["status"],
            "evidence": None
            if access.withholds("ComparisonItem", "evidence")
            else evidence_of(access, row["evidence"], row["id_number"], f"{path}.evidence"),
            "reason_code": row["reason_code"],
            "note": row["note"],
            "assignee": row["assignee"],
            "covered_by": row["covered_by"],
            "covered_on": row["covered_on"],
            "history": history_of(access, history),
            "version": row["version"],
        }
        access.apply("ComparisonItem", values, {"id_number": row["id_number"]})
        return cls(**values, household_key=row["household_number"], id_number_key=row["id_number"])

    @strawberry.field(description="The household the finding is about.")
    def household(self, info: Info) -> Household | None:
        return household_of(info, "ComparisonItem", self.household_key)

    @strawberry.field(description="The person a person rule found; null for a household rule.")
    def person(self, info: Info) -> Person | None:
        if self.id_number_key is None or info.context.access.withholds("ComparisonItem", "person"):
            return None
        found = info.context.records(department.PERSONS, "id_number", self.id_number_key)
        return Person.from_record(info.context.access, found[0]) if found else None


def household_of(info: Info, type_name: str, household_number: str) -> Household | None:
    if info.context.access.withholds(type_name, "household"):
        return None
    found = info.context.records(department.HOUSEHOLDS, "household_number", household_number)
    return Household.from_record(info.context.access, found[0]) if found else None


async def fetch_subjects(info: Info, rows: Sequence[Mapping[str, Any]], below: tuple[str, ...]) -> None:
    """The households and persons of a page in one batch, then what the selection reads below them, as
    `households` fetches ahead below its nodes (the analysis planned each from `below` the entry point)."""
    context = info.context
    households = sorted({row["household_number"] for row in rows})
    persons = sorted({row["id_number"] for row in rows if row.get("id_number")})
    if not households:
        return
    wanted = [LoadRequest(department.HOUSEHOLDS, "household_number", households)]
    if persons:
        wanted.append(LoadRequest(department.PERSONS, "id_number", persons))
    await context.cache.prefetch(wanted)
    if context.analysis is None:
        return
    entry = str(info.path.as_list()[0])
    for name, spec, key, keys in (
        ("household", department.HOUSEHOLDS, "household_number", households),
        ("person", department.PERSONS, "id_number", persons),
    ):
        records = [found[0] for number in keys if (found := context.records(spec, key, number))]
        await prefetch(context, context.analysis.plan(entry, (*below, name)), records, key)


@strawberry.type
class ComparisonItemEdge:
    cursor: str
    node: ComparisonItem


@strawberry.type
class ComparisonItemConnection:
    edges: list[ComparisonItemEdge]
    page_info: PageInfo


@strawberry.type(description="A comparison run: the rules over the snapshots current on its as-of day.")
class ComparisonRun:
    id: strawberry.ID
    region: str
    term: str | None
    as_of: dt.date
    inputs: JSON = strawberry.field(description="Per department: its ingest run and as-of, or read live.")
    counts: JSON = strawberry.field(
        description="Items per rule code in the part of the run the caller may see; null: the rule was not evaluated."
    )
    run_id: strawberry.Private[int]

    @strawberry.field(description="Every item the run found (also those an earlier run created), by item id.")
    async def items(
        self,
        info: Info,
        rule: str | None = None,
        status: str | None = None,
        region: Annotated[
            str | None,
            strawberry.argument(description="Only items inside this division, e.g. a township's 9 digits."),
        ] = None,
        first: int | None = None,
        after: str | None = None,
    ) -> ComparisonItemConnection:
        context = info.context
        checked(status, lifecycle.ITEM_STATUSES, "status")
        # The caller's own regions, narrowed to the division asked for (never widened by it).
        prefixes = context.access.visible(region_prefix(region)) if region is not None else context.access.regions
        limit = page_size(first)
        kind = item_cursor(self.run_id)
        start = context.cursors.open(kind, after)
        connection = context.connection()
        found = queries.run_items_page(
            connection,
            self.run_id,
            prefixes=prefixes,
            rule=rule,
            status=status,
            after=int(start) if start is not None else None,
            limit=limit + 1,
        )
        rows = found[:limit]
        await fetch_subjects(info, rows, ("items", "edges", "node"))
        histories = queries.histories(connection, ITEM, [row["id"] for row in rows])
        path = path_of(info, "edges", "node")
        edges = [
            ComparisonItemEdge(
                cursor=context.cursors.seal(kind, str(row["id"])),
                node=ComparisonItem.from_row(context.access, row, histories[row["id"]], path),
            )
            for row in rows
        ]
        return ComparisonItemConnection(edges=edges, page_info=page_info(edges, len(found) > limit, after))


def run_of(context: Context, row: Mapping[str, Any]) -> ComparisonRun:
    counts = queries.visible_counts(context.connection(), row, prefixes=context.access.regions)
    return ComparisonRun(
        id=strawberry.ID(str(row["id"])),
        region=row["region"],
        term=row["term"],
        as_of=row["as_of"],
        inputs=row["inputs"],
        counts=cast(JSON, counts),
        run_id=row["id"],
    )


@strawberry.type
class ComparisonRunEdge:
    cursor: str
    node: ComparisonRun


@strawberry.type
class ComparisonRunConnection:
    edges: list[ComparisonRunEdge]
    page_info: PageInfo


def comparison_runs(info: Info, region: str, first: int | None, after: str | None) -> ComparisonRunConnection:
    context = info.context
    prefixes = context.access.visible(region_prefix(region))
    limit = page_size(first)
    start = context.cursors.open(RUN_CURSOR, after)
    found = queries.runs_page(
        context.connection(), prefixes=prefixes, after=int(start) if start is not None else None, limit=limit + 1
    )
    edges = [
        ComparisonRunEdge(cursor=context.cursors.seal(RUN_CURSOR, str(row["id"])), node=run_of(context, row))
        for row in found[:limit]
    ]
    return ComparisonRunConnection(edges=edges, page_info=page_info(edges, len(found) > limit, after))


def comparison_run(info: Info, run_id: str) -> ComparisonRun | None:
    number = parse_id(run_id)
    if number is None:
        return None
    found = queries.run(info.context.connection(), number, prefixes=info.context.access.regions)
    return run_of(info.context, found) if found is not None else None


def page_info(edges: Sequence[Any], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
