"""The warnings scan: raise alerts for new evidence of the four kinds, join new evidence to open alerts,
escalate overdue ones; every write through casework.changes, every deadline from casework.lifecycle.

For each kind, one statement (casework.warnings.kinds) returns the evidence not yet raised, per
household. For each (kind, household) that has some:

- an open alert of that kind for the household takes it: its evidence is appended (`hub_change`, so the
  version rises and the history says the hub changed it);
- otherwise a new alert is RAISED at `now`, at the township level, due for acknowledgement as
  `lifecycle.due_at` says (12 hours for a temporary-assistance emergency, jzlx=1; else 24);

and the evidence keys go into `alert_evidence`, whose primary key makes the same (kind, household,
evidence) impossible to raise twice. Then every overdue alert of the scope moves from township to
county. `now` is a parameter throughout, so a test fixes the clock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from casework import lifecycle
from casework.changes import hub_change, record_creation
from casework.tables import alert, alert_evidence
from casework.warnings import rules as r
from casework.warnings.kinds import KINDS, Kind, Scope, new_evidence
from resolvers.rules.regions import Region, in_regions
from webhooks.clock import utc

Row = Mapping[str, Any]
Announcer = Callable[[sa.Connection, list[Row], dt.datetime], int]
"""Told of the alerts a scan raised, in its transaction; returns the deliveries it queued."""


@dataclass
class KindCounts:
    raised: int = 0  # new alerts
    joined: int = 0  # evidence records added to an alert that was open already
    evidence: int = 0  # evidence records raised in all


@dataclass
class ScanReport:
    as_of: dt.date
    rules_version: str
    kinds: dict[str, KindCounts] = field(default_factory=lambda: {code: KindCounts() for code in r.KINDS})
    escalated: int = 0
    deliveries: int = 0  # alert.raised webhooks queued
    raised_ids: list[int] = field(default_factory=list)

    @property
    def raised(self) -> int:
        return sum(counts.raised for counts in self.kinds.values())


def scan(
    connection: sa.Connection,
    *,
    regions: Sequence[Region] | None = None,
    households: Sequence[str] | sa.Select[Any] | None = None,
    as_of: dt.date,
    now: dt.datetime,
    rules: r.WarningRules,
    announce: Announcer | None = None,
) -> ScanReport:
    """Raise and join alerts for the households in `regions` (or those named), then escalate the overdue.

    In the caller's transaction: the alerts, their evidence keys, their history and their webhooks are
    stored together or not at all.
    """
    if regions is None and households is None:
        raise ValueError("a scan needs regions or households")
    named = _Named(connection, households) if isinstance(households, sa.Select) else None
    try:
        households = named.select if named is not None else households
        scope = Scope(regions=tuple(regions) if regions is not None else None, households=households)
        report = ScanReport(as_of=as_of, rules_version=rules.version)
        raised: list[Row] = []
        for code in r.KINDS:
            kind = KINDS[code]
            found = _by_household(kind, connection.execute(new_evidence(kind, scope=scope, day=as_of, rules=rules)))
            raised += _raise_or_join(connection, kind, found, report.kinds[code], now=now, rules=rules)
        report.raised_ids = [row["id"] for row in raised]
        report.escalated = escalate(connection, now=now, regions=regions, households=households)
        if announce is not None and raised:
            report.deliveries = announce(connection, raised, now)
        return report
    finally:
        if named is not None:
            named.drop()


class _Named:
    """Households given as a statement (those an import changed), computed once into a temporary table:
    each kind and the escalation then read a table of keys, not the statement again."""

    def __init__(self, connection: sa.Connection, households: sa.Select[Any]) -> None:
        self._connection = connection
        self._table = sa.Table(
            "warning_scan_household",
            sa.MetaData(),
            sa.Column("household_number", sa.String(20), primary_key=True),
            prefixes=["TEMPORARY"],
        )
        self._table.create(connection)
        numbers = households.subquery()
        distinct = sa.select(numbers.c[0]).where(numbers.c[0].is_not(None)).distinct()
        connection.execute(self._table.insert().from_select(["household_number"], distinct))
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"ANALYZE {self._table.name}"))  # a fresh table is planned as empty
        self.select = sa.select(self._table.c.household_number)

    def drop(self) -> None:
        self._table.drop(self._connection)


def escalate(
    connection: sa.Connection,
    *,
    now: dt.datetime,
    regions: Sequence[Region] | None = None,
    households: Sequence[str] | sa.Select[Any] | None = None,
) -> int:
    """Move every overdue alert (lifecycle.overdue) from township to county; returns how many.

    No region and no household: every alert of the store (the hub's own periodic sweep).
    """
    statement = sa.select(alert).where(
        alert.c.level == lifecycle.TOWNSHIP, alert.c.status == lifecycle.RAISED, alert.c.due_at < now
    )
    if regions is not None:
        statement = statement.where(in_regions(alert.c.region_code, regions, inline=True))
    if households is not None:
        named = households if isinstance(households, sa.Select) else list(households)
        statement = statement.where(alert.c.household_number.in_(named))
    moved = 0
    for row in connection.execute(statement.order_by(alert.c.id)).mappings().all():
        current = dict(row)
        if not lifecycle.overdue(status=current["status"], due=utc(current["due_at"]), now=now):
            continue
        note = f"escalated to the county: acknowledgement was due {utc(current['due_at']):%Y-%m-%d %H:%M} UTC"
        hub_change(connection, alert, current, {"level": lifecycle.COUNTY, "note": note}, now=now)
        moved += 1
    return moved


@dataclass(frozen=True)
class _Found:
    region_code: str
    evidence: list[dict[str, Any]]
    keys: list[str]
    emergency: bool


def _by_household(kind: Kind, rows: sa.CursorResult[Any]) -> dict[str, _Found]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows.mappings():
        grouped[row["household_number"]].append(dict(row))
    found = {}
    for household_number, records in grouped.items():
        records.sort(key=lambda row: row["record_key"])
        evidence = [_evidence(kind, row) for row in records]
        found[household_number] = _Found(
            region_code=records[0]["region_code"],
            evidence=evidence,
            keys=[kind.evidence_prefix() + row["record_key"] for row in records],
            emergency=any(bool(row["emergency"]) for row in records),
        )
    return found


def _evidence(kind: Kind, row: Row) -> dict[str, Any]:
    values = {name.removeprefix("value_"): _json(found) for name, found in row.items() if name.startswith("value_")}
    return {
        "department": kind.spec.department,
        "table": kind.spec.name,
        "recordKey": row["record_key"],
        "values": values,
    }


def _json(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    if isinstance(value, float):  # a SQLite NUMERIC read as a float: money, to the fen
        return str(Decimal(repr(value)).quantize(Decimal("0.01")))
    return value


def _raise_or_join(
    connection: sa.Connection,
    kind: Kind,
    found: dict[str, _Found],
    counts: KindCounts,
    *,
    now: dt.datetime,
    rules: r.WarningRules,
) -> list[Row]:
    if not found:
        return []
    open_alerts = _open_alerts(connection, kind.code, list(found))
    links: list[dict[str, Any]] = []
    fresh: list[tuple[str, _Found]] = []
    for household_number, new in sorted(found.items()):
        counts.evidence += len(new.evidence)
        current = open_alerts.get(household_number)
        if current is None:
            fresh.append((household_number, new))
            continue
        evidence = [*current["evidence"], *new.evidence]
        written = hub_change(connection, alert, current, {"evidence": evidence}, now=now)
        counts.joined += len(new.evidence)
        links += _links(kind, household_number, new, written["id"])
    raised = _create(connection, kind, fresh, now=now, rules=rules)
    counts.raised += len(raised)
    for (household_number, new), row in zip(fresh, raised, strict=True):
        links += _links(kind, household_number, new, row["id"])
    connection.execute(alert_evidence.insert(), links)
    return raised


def _links(kind: Kind, household_number: str, new: _Found, alert_id: int) -> list[dict[str, Any]]:
    return [
        {"kind": kind.code, "household_number": household_number, "evidence_key": key, "alert_id": alert_id}
        for key in new.keys
    ]


def _open_alerts(connection: sa.Connection, kind: str, households: list[str]) -> dict[str, dict[str, Any]]:
    """The open alert of `kind` per household (the newest, should there be two)."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(households), 5000):  # bounded parameter lists, whatever the scan's size
        rows = connection.execute(
            sa.select(alert)
            .where(
                alert.c.kind == kind,
                alert.c.status.in_(sorted(lifecycle.ALERT_OPEN)),
                alert.c.household_number.in_(households[start : start + 5000]),
            )
            .order_by(alert.c.id)
        ).mappings()
        found |= {row["household_number"]: dict(row) for row in rows}
    return found


def _create(
    connection: sa.Connection, kind: Kind, fresh: list[tuple[str, _Found]], *, now: dt.datetime, rules: r.WarningRules
) -> list[Row]:
    """New RAISED alerts, one per household, in one statement; each with its creation in the history."""
    if not fresh:
        return []
    rows = []
    for household_number, new in fresh:
        emergency = kind.code == r.TEMPORARY_ASSISTANCE and new.emergency
        rows.append(
            {
                "kind": kind.code,
                "household_number": household_number,
                "region_code": new.region_code,
                "status": lifecycle.RAISED,
                "level": lifecycle.TOWNSHIP,
                "emergency": emergency,
                "evidence": new.evidence,
                "raised_at": now,
                "due_at": lifecycle.due_at(now, emergency=emergency),
                "rules_version": rules.version,
                "version": 1,
                "updated_at": now,
            }
        )
    inserted = connection.execute(alert.insert().returning(alert.c.id, sort_by_parameter_order=True), rows)
    created: list[Row] = [
        {**row, "id": alert_id, "reason_code": None, "note": None}
        for row, alert_id in zip(rows, inserted.scalars(), strict=True)
    ]
    for row in created:
        record_creation(connection, "alert", row, now=now)
    return created
