"""Reading the casework tables for a caller: runs, a run's items, alerts and their histories, region-bound.

Every function takes the caller's visible region prefixes (`Access.visible`: the asked region cut to the
caller's regions). An item or alert whose household lies outside them does not exist here: the look-ups
by id answer None for it exactly as for an id never issued, and the lists leave it out, so nothing the
caller is shown tells the two apart. Lists are keyset-paginated on the row id (one row more than asked
tells whether another page follows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from casework import lifecycle
from casework.tables import alert, casework_history, comparison_item, comparison_run, comparison_run_item
from resolvers.rules.regions import Region, in_regions

Row = Mapping[str, Any]


def _inside(column: sa.ColumnElement[Any], prefixes: Sequence[str]) -> sa.ColumnElement[bool]:
    return in_regions(column, [Region(prefix) for prefix in prefixes])


def _overlapping(prefixes: Sequence[str]) -> sa.ColumnElement[bool]:
    """A run's region overlaps one of the prefixes: it lies inside one, or holds one (a city run for a county)."""
    run_region = comparison_run.c.region
    holds = [sa.literal(prefix).like(run_region + "%") for prefix in prefixes]
    return sa.or_(sa.false(), _inside(run_region, prefixes), *holds)


def runs_page(connection: sa.Connection, *, prefixes: Sequence[str], after: int | None, limit: int) -> list[Row]:
    """Runs whose region overlaps the prefixes, newest first."""
    query = sa.select(comparison_run).where(_overlapping(prefixes)).order_by(comparison_run.c.id.desc())
    if after is not None:
        query = query.where(comparison_run.c.id < after)
    return [dict(row) for row in connection.execute(query.limit(limit)).mappings()]


def run(connection: sa.Connection, run_id: int, *, prefixes: Sequence[str]) -> Row | None:
    query = sa.select(comparison_run).where(comparison_run.c.id == run_id, _overlapping(prefixes))
    found = connection.execute(query).mappings().first()
    return dict(found) if found is not None else None


def wholly_inside(run_region: str, prefixes: Sequence[str]) -> bool:
    """Whether all of a run lies inside the prefixes, so that its stored counts are the caller's to see."""
    return any(Region(prefix).covers(run_region) for prefix in prefixes)


def visible_counts(connection: sa.Connection, run_row: Row, *, prefixes: Sequence[str]) -> dict[str, int | None]:
    """The run's items per rule, counted over the part of it the caller may see; a rule the run did not
    evaluate stays null (never 0)."""
    stored: Mapping[str, int | None] = run_row["counts"]
    if wholly_inside(run_row["region"], prefixes):
        return dict(stored)
    query = (
        sa.select(comparison_item.c.rule, sa.func.count())
        .select_from(comparison_run_item.join(comparison_item, comparison_item.c.id == comparison_run_item.c.item_id))
        .where(comparison_run_item.c.run_id == run_row["id"], _inside(comparison_item.c.region_code, prefixes))
        .group_by(comparison_item.c.rule)
    )
    found = {rule: count for rule, count in connection.execute(query)}
    return {rule: (None if count is None else found.get(rule, 0)) for rule, count in stored.items()}


def run_items_page(
    connection: sa.Connection,
    run_id: int,
    *,
    prefixes: Sequence[str],
    rule: str | None,
    status: str | None,
    after: int | None,
    limit: int,
) -> list[Row]:
    """The items a run found (first found by it or by an earlier run), inside the prefixes, by item id."""
    query = (
        sa.select(comparison_item)
        .join(comparison_run_item, comparison_run_item.c.item_id == comparison_item.c.id)
        .where(comparison_run_item.c.run_id == run_id, _inside(comparison_item.c.region_code, prefixes))
        .order_by(comparison_item.c.id)
    )
    if rule is not None:
        query = query.where(comparison_item.c.rule == rule)
    if status is not None:
        query = query.where(comparison_item.c.status == status)
    if after is not None:
        query = query.where(comparison_item.c.id > after)
    return [dict(row) for row in connection.execute(query.limit(limit)).mappings()]


def item(connection: sa.Connection, item_id: int, *, prefixes: Sequence[str]) -> Row | None:
    """One item, or None when there is none or it lies outside the prefixes (the two alike)."""
    query = sa.select(comparison_item).where(
        comparison_item.c.id == item_id, _inside(comparison_item.c.region_code, prefixes)
    )
    found = connection.execute(query).mappings().first()
    return dict(found) if found is not None else None


def alerts_page(
    connection: sa.Connection,
    *,
    prefixes: Sequence[str],
    status: str | None,
    kind: str | None,
    overdue: bool | None,
    now: dt.datetime,
    after: int | None,
    limit: int,
) -> list[Row]:
    """Alerts inside the prefixes, newest first; `overdue` as of `now` (casework.lifecycle.overdue_sql)."""
    query = sa.select(alert).where(_inside(alert.c.region_code, prefixes)).order_by(alert.c.id.desc())
    if status is not None:
        query = query.where(alert.c.status == status)
    if kind is not None:
        query = query.where(alert.c.kind == kind)
    if overdue is not None:
        late = lifecycle.overdue_sql(alert.c.status, alert.c.due_at, now.astimezone(dt.UTC))
        query = query.where(late if overdue else sa.not_(late))
    if after is not None:
        query = query.where(alert.c.id < after)
    return [dict(row) for row in connection.execute(query.limit(limit)).mappings()]


def one_alert(connection: sa.Connection, alert_id: int, *, prefixes: Sequence[str]) -> Row | None:
    """One alert, or None when there is none or it lies outside the prefixes (the two alike)."""
    query = sa.select(alert).where(alert.c.id == alert_id, _inside(alert.c.region_code, prefixes))
    found = connection.execute(query).mappings().first()
    return dict(found) if found is not None else None


def histories(connection: sa.Connection, subject: str, subject_ids: Iterable[int]) -> dict[int, list[Row]]:
    """The history of each item (or alert) of a page, oldest change first, in one statement."""
    ids = sorted(set(subject_ids))
    found: dict[int, list[Row]] = {subject_id: [] for subject_id in ids}
    if not ids:
        return found
    query = (
        sa.select(casework_history)
        .where(casework_history.c.subject == subject, casework_history.c.subject_id.in_(ids))
        .order_by(casework_history.c.subject_id, casework_history.c.id)
    )
    for row in connection.execute(query).mappings():
        found[row["subject_id"]].append(dict(row))
    return found
