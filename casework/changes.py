"""The one way an item or an alert changes: checked against its lifecycle and its version, written with its history.

Every caller (the GraphQL mutations, the command line, the hub's own runs and scans) goes through
`change_item` / `change_alert`, so the lifecycle is enforced once. The version check is part of the
UPDATE itself (`WHERE version = :expected`): of two caseworkers who read version 3, the first to write
makes version 4 and the second gets `Conflict` with the state the first left, never a silent
overwrite. Region and purpose are the caller's to check before it reads the row at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from casework import lifecycle
from casework.tables import alert, casework_history, comparison_item

Row = Mapping[str, Any]

HUB_ACTOR = "aidgraph"
"""The actor of the hub's own changes (CLEARED_BY_DATA, escalation)."""


class Conflict(Exception):
    """The row changed since the caller read it: `current` is its state now."""

    def __init__(self, current: Row) -> None:
        super().__init__(f"version {current['version']} is current; the change was made against an older one")
        self.current = current


class NotFound(LookupError):
    pass


def change_item(
    connection: sa.Connection,
    item_id: int,
    change: lifecycle.Change,
    *,
    version: int,
    actor: str,
    now: dt.datetime | None = None,
) -> Row:
    """Move an item to `change.to`; returns the item as written. Raises RefusedChange, Conflict or NotFound."""
    current = _read(connection, comparison_item, item_id)
    if current["version"] != version:
        raise Conflict(current)
    lifecycle.check_item_change(current["status"], change)
    values: dict[str, Any] = {"status": change.to, "note": change.note, "reason_code": change.reason_code}
    if change.to == lifecycle.ASSIGNED:
        values["assignee"] = change.assignee
    if change.to == lifecycle.COVERED:
        values |= {"covered_by": change.programme, "covered_on": change.covered_on}
    if change.to in lifecycle.SUPPRESSING:
        values["decided_fingerprint"] = current["fingerprint"]
    return _write(connection, comparison_item, "item", current, values, actor=actor, now=now)


def change_alert(
    connection: sa.Connection,
    alert_id: int,
    change: lifecycle.Change,
    *,
    version: int,
    actor: str,
    now: dt.datetime | None = None,
) -> Row:
    """Move an alert to `change.to`; returns the alert as written. Raises RefusedChange, Conflict or NotFound."""
    current = _read(connection, alert, alert_id)
    if current["version"] != version:
        raise Conflict(current)
    lifecycle.check_alert_change(current["status"], change)
    values = {"status": change.to, "note": change.note, "reason_code": change.reason_code}
    return _write(connection, alert, "alert", current, values, actor=actor, now=now)


def hub_change(
    connection: sa.Connection,
    table: sa.Table,
    current: Row,
    values: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
) -> Row:
    """A change the hub makes by itself (CLEARED_BY_DATA, an item found again, escalation): no lifecycle
    check, since it is not a caseworker's move, but the same version rule and history."""
    subject = "item" if table is comparison_item else "alert"
    return _write(connection, table, subject, current, dict(values), actor=HUB_ACTOR, now=now)


def record_creation(
    connection: sa.Connection, subject: str, row: Row, *, actor: str = HUB_ACTOR, now: dt.datetime | None = None
) -> None:
    """The first history entry of a new item or alert (from no status to its first)."""
    record_creations(connection, subject, [row], actor=actor, now=now)


def record_creations(
    connection: sa.Connection,
    subject: str,
    rows: Sequence[Row],
    *,
    actor: str = HUB_ACTOR,
    now: dt.datetime | None = None,
) -> None:
    """`record_creation` for many new items or alerts at once (a run creates thousands): one batched insert."""
    if not rows:
        return
    moment = now or dt.datetime.now(dt.UTC)
    entries = [
        {
            "subject": subject,
            "subject_id": row["id"],
            "at": moment,
            "actor": actor,
            "from_status": None,
            "to_status": row["status"],
            "reason_code": None,
            "note": None,
            "version": row["version"],
        }
        for row in rows
    ]
    connection.execute(casework_history.insert(), entries)


def history(connection: sa.Connection, subject: str, subject_id: int) -> list[Row]:
    """Who changed it, when, from which status to which, with what reason: oldest first."""
    query = (
        sa.select(casework_history)
        .where(casework_history.c.subject == subject, casework_history.c.subject_id == subject_id)
        .order_by(casework_history.c.id)
    )
    return [dict(row._mapping) for row in connection.execute(query)]


def _read(connection: sa.Connection, table: sa.Table, row_id: int) -> Row:
    row = connection.execute(sa.select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        raise NotFound(f"no {table.name} {row_id}")
    return dict(row)


def _write(
    connection: sa.Connection,
    table: sa.Table,
    subject: str,
    current: Row,
    values: dict[str, Any],
    *,
    actor: str,
    now: dt.datetime | None,
) -> Row:
    moment = now or dt.datetime.now(dt.UTC)
    new_version = current["version"] + 1
    written = connection.execute(
        table.update()
        .where(table.c.id == current["id"], table.c.version == current["version"])
        .values(**values, version=new_version, updated_at=moment)
    ).rowcount
    if written != 1:
        # Someone else wrote between our read and our update.
        raise Conflict(_read(connection, table, current["id"]))
    connection.execute(
        casework_history.insert().values(
            subject=subject,
            subject_id=current["id"],
            at=moment,
            actor=actor,
            from_status=current["status"],
            to_status=values.get("status", current["status"]),
            reason_code=values.get("reason_code"),
            note=values.get("note"),
            version=new_version,
        )
    )
    return {**current, **values, "version": new_version, "updated_at": moment}
