"""A rule's findings written into the ledger (casework.tables): new items, items found again, items cleared.

For each finding, by its key (rule, subject, programme):

- no item yet: a FOUND item is created (with its first history entry, casework.changes);
- an open item: linked to the run; its evidence, fingerprint and last run updated through
  `hub_change` when the evidence changed (a history entry says so), else only its last run;
- a NOT_ELIGIBLE or FALSE_POSITIVE item whose fingerprint is the one its decision saw stays as it
  is, linked to the run (suppressed); with a new fingerprint it comes back REOPENED, its decision
  (reason code, note, history) still there to read;
- an item COVERED or marked DATA_ERROR comes back REOPENED when its evidence changed, and stays
  closed otherwise (the data have not moved since the caseworker closed it); an item CLEARED_BY_DATA
  whose condition holds again is REOPENED.

An open item of the rule in the run's region (for C3: whose last run was for the same term) that the
run did not find again becomes CLEARED_BY_DATA. Every found item is linked (comparison_run_item). New
items and links are written in batches; the hub's changes of existing items one by one, as each needs
its version check and history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from casework import changes, lifecycle
from casework.comparison.findings import Finding
from casework.comparison.rules import Rule
from casework.tables import comparison_item, comparison_run, comparison_run_item
from resolvers.rules.regions import Region

BATCH = 1000
_REOPEN_WHEN_CHANGED = frozenset({lifecycle.COVERED, lifecycle.DATA_ERROR})


def record(
    connection: sa.Connection,
    rule: Rule,
    findings: Mapping[tuple[str, str], Finding],
    *,
    run_id: int,
    region: Region,
    term: str | None,
    now: dt.datetime,
) -> None:
    """Write one rule's findings of run `run_id` into the ledger (see the module's docstring)."""
    existing = _items(connection, rule)
    new: list[Finding] = []
    linked: list[int] = []
    refound: list[int] = []
    for key, finding in findings.items():
        item = existing.get(key)
        if item is None:
            new.append(finding)
            continue
        linked.append(item["id"])
        values = _found_again(item, finding, run_id)
        if values is None:
            refound.append(item["id"])
        else:
            changes.hub_change(connection, comparison_item, item, values, now=now)
    linked += _create(connection, rule, new, run_id=run_id, now=now)
    for batch in _batches(refound):
        connection.execute(comparison_item.update().where(comparison_item.c.id.in_(batch)).values(last_run=run_id))
    for batch in _batches(linked):
        connection.execute(comparison_run_item.insert(), [{"run_id": run_id, "item_id": item} for item in batch])
    _clear(connection, rule, existing, set(findings), region=region, term=term, now=now)


def _items(connection: sa.Connection, rule: Rule) -> dict[tuple[str, str], dict[str, Any]]:
    query = sa.select(comparison_item).where(comparison_item.c.rule == rule.code)
    return {(row.subject, row.programme): dict(row._mapping) for row in connection.execute(query)}


def _found_again(item: Mapping[str, Any], finding: Finding, run_id: int) -> dict[str, Any] | None:
    """What the hub changes of an item found again; None: only its last run."""
    status, changed = item["status"], item["fingerprint"] != finding.fingerprint
    update = {"evidence": finding.evidence, "fingerprint": finding.fingerprint, "last_run": run_id}
    if status in lifecycle.ITEM_OPEN:
        return update if changed else None
    if status in lifecycle.SUPPRESSING:
        if finding.fingerprint == item["decided_fingerprint"]:
            return None
        return {**update, "status": lifecycle.REOPENED}
    if status in _REOPEN_WHEN_CHANGED and not changed:
        return None
    return {**update, "status": lifecycle.REOPENED}


def _create(
    connection: sa.Connection, rule: Rule, findings: list[Finding], *, run_id: int, now: dt.datetime
) -> list[int]:
    created: list[int] = []
    for batch in _batches(findings):
        rows = [
            {
                "rule": rule.code,
                "subject": finding.subject,
                "programme": finding.programme,
                "household_number": finding.household_number,
                "id_number": finding.id_number,
                "region_code": finding.region_code,
                "status": lifecycle.FOUND,
                "evidence": finding.evidence,
                "fingerprint": finding.fingerprint,
                "first_run": run_id,
                "last_run": run_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for finding in batch
        ]
        inserted = connection.execute(
            comparison_item.insert().returning(
                comparison_item.c.id, comparison_item.c.status, comparison_item.c.version
            ),
            rows,
        )
        written = [dict(row._mapping) for row in inserted]
        changes.record_creations(connection, "item", written, now=now)
        created += [row["id"] for row in written]
    return created


def _clear(
    connection: sa.Connection,
    rule: Rule,
    existing: Mapping[tuple[str, str], Mapping[str, Any]],
    found: set[tuple[str, str]],
    *,
    region: Region,
    term: str | None,
    now: dt.datetime,
) -> None:
    """Open items of the rule the run covers but did not find again: their condition no longer holds."""
    gone = [
        item
        for key, item in existing.items()
        if key not in found and item["status"] in lifecycle.ITEM_OPEN and region.covers(item["region_code"])
    ]
    if rule.needs_term and gone:
        terms = _terms_of_runs(connection, {item["last_run"] for item in gone})
        gone = [item for item in gone if terms.get(item["last_run"]) == term]
    for item in gone:
        changes.hub_change(connection, comparison_item, item, {"status": lifecycle.CLEARED_BY_DATA}, now=now)


def _terms_of_runs(connection: sa.Connection, runs: Iterable[int]) -> dict[int, str | None]:
    query = sa.select(comparison_run.c.id, comparison_run.c.term).where(comparison_run.c.id.in_(sorted(runs)))
    return {row.id: row.term for row in connection.execute(query)}


def _batches(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
