"""The households an ingest changed: whose records of its runs are new or changed, or were closed or superseded.

A record of a run carries the run (`ingest_run`); one the run made or changed also has `valid_from` equal to
its `as_of` (an unchanged record keeps its older `valid_from`); a version the run closed or replaced sits
in `<table>_history` with `closed_by` = the run. The household of a record is found from what the record
names, the same way for every `FileSpec`:

- its household number (a case filed without one: its person's household, as below);
- else its person's id number, through the registry's persons (current, and as they were: a person who
  moved belongs to both households' scans);
- else, for a county's table (the dibao standard), every household of the county.

Returned as one statement of household numbers, so that a scan of a whole city's changes never sends
a million parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters import registry
from adapters.base import Department, FileSpec
from resolvers.rules.regions import county_sql


def changed_households(runs: Sequence[tuple[Department, int]]) -> sa.Select[Any]:
    """Household numbers (distinct) whose records the ingest runs changed or closed."""
    parts: list[sa.Select[Any]] = []
    for department, run_id in runs:
        for spec in department.files:
            current = spec.table
            changed = sa.and_(current.c.ingest_run == run_id, current.c.valid_from == current.c.as_of)
            parts += _households_of(spec, current, changed)
            parts += _households_of(spec, spec.history, spec.history.c.closed_by == run_id)
    if not parts:
        return sa.select(registry.HOUSEHOLDS.table.c.household_number).where(sa.false())
    union = sa.union(*parts).subquery("changed_household")
    return sa.select(union.c.household_number)


def _households_of(spec: FileSpec, records: sa.Table, which: sa.ColumnElement[bool]) -> list[sa.Select[Any]]:
    names = {column.name for column in spec.columns}
    found: list[sa.Select[Any]] = []
    if "household_number" in names:
        found.append(
            sa.select(records.c.household_number.label("household_number")).where(
                which, records.c.household_number.is_not(None)
            )
        )
    if "id_number" in names and spec is not registry.PERSONS:
        # A record naming a person (and no household, or one beside it): the person's household, then and now.
        for persons in (registry.PERSONS.table, registry.PERSONS.history):
            found.append(
                sa.select(persons.c.household_number.label("household_number"))
                .select_from(records.join(persons, persons.c.id_number == records.c.id_number))
                .where(which)
            )
    if not found and "county_code" in names:
        households = registry.HOUSEHOLDS.table
        found.append(
            sa.select(households.c.household_number.label("household_number"))
            .select_from(records.join(households, county_sql(households.c.region_code) == records.c.county_code))
            .where(which)
        )
    return found
