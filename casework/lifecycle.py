"""The lifecycles of a comparison item and of an alert, in one place: which change is allowed, what it needs,
and when an alert is due.

Item (DESIGN §4, the ledger):

    FOUND → ASSIGNED → VERIFIED → COVERED | NOT_ELIGIBLE | FALSE_POSITIVE | DATA_ERROR
    any closed item → REOPENED → ASSIGNED …
    an open item whose condition no longer holds → CLEARED_BY_DATA (the hub's change, never a caseworker's)

COVERED names the programme and the day; NOT_ELIGIBLE, FALSE_POSITIVE and DATA_ERROR need a reason code
from their fixed list (OTHER also needs a note). NOT_ELIGIBLE and FALSE_POSITIVE suppress the item's key
until its evidence changes.

Alert (seeds 000 and 004):

    RAISED → ACKNOWLEDGED → VERIFYING → CONFIRMED | DISMISSED (reason) ; CONFIRMED → ASSISTED → RISK_ELIMINATED

An alert is due for acknowledgement 24 hours after it is raised, 12 for a temporary-assistance
emergency; once overdue it escalates from township to county.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa

# ---- items --------------------------------------------------------------------------------------

FOUND: Final = "FOUND"
ASSIGNED: Final = "ASSIGNED"
VERIFIED: Final = "VERIFIED"
COVERED: Final = "COVERED"
NOT_ELIGIBLE: Final = "NOT_ELIGIBLE"
FALSE_POSITIVE: Final = "FALSE_POSITIVE"
DATA_ERROR: Final = "DATA_ERROR"
REOPENED: Final = "REOPENED"
CLEARED_BY_DATA: Final = "CLEARED_BY_DATA"

ITEM_STATUSES: Final = (
    FOUND,
    ASSIGNED,
    VERIFIED,
    COVERED,
    NOT_ELIGIBLE,
    FALSE_POSITIVE,
    DATA_ERROR,
    REOPENED,
    CLEARED_BY_DATA,
)
ITEM_OPEN: Final = frozenset({FOUND, ASSIGNED, VERIFIED, REOPENED})
ITEM_CLOSED: Final = frozenset(ITEM_STATUSES) - ITEM_OPEN
SUPPRESSING: Final = frozenset({NOT_ELIGIBLE, FALSE_POSITIVE})
"""Decisions that keep the key from coming back until its evidence fingerprint changes."""

_ITEM_MOVES: Final[Mapping[str, frozenset[str]]] = {
    FOUND: frozenset({ASSIGNED}),
    ASSIGNED: frozenset({ASSIGNED, VERIFIED}),  # ASSIGNED → ASSIGNED hands the item to someone else
    VERIFIED: frozenset({COVERED, NOT_ELIGIBLE, FALSE_POSITIVE, DATA_ERROR}),
    REOPENED: frozenset({ASSIGNED}),
    **{closed: frozenset({REOPENED}) for closed in ITEM_CLOSED},
}

ITEM_REASONS: Final[Mapping[str, tuple[str, ...]]] = {
    NOT_ELIGIBLE: (
        "INCOME_ABOVE_STANDARD",
        "ASSETS_ABOVE_LIMIT",
        "SUPPORTED_BY_FAMILY",
        "MOVED_AWAY",
        "DECEASED",
        "DECLINED_AID",
        "OTHER",
    ),
    FALSE_POSITIVE: ("ALREADY_COVERED", "RECORD_OUT_OF_DATE", "RULE_DOES_NOT_APPLY", "OTHER"),
    DATA_ERROR: ("WRONG_ID_NUMBER", "WRONG_HOUSEHOLD", "WRONG_AMOUNT", "DUPLICATE_RECORD", "OTHER"),
}
"""The short fixed lists of reason codes, per outcome that needs one."""

# ---- alerts -------------------------------------------------------------------------------------

RAISED: Final = "RAISED"
ACKNOWLEDGED: Final = "ACKNOWLEDGED"
VERIFYING: Final = "VERIFYING"
CONFIRMED: Final = "CONFIRMED"
DISMISSED: Final = "DISMISSED"
ASSISTED: Final = "ASSISTED"
RISK_ELIMINATED: Final = "RISK_ELIMINATED"

ALERT_STATUSES: Final = (RAISED, ACKNOWLEDGED, VERIFYING, CONFIRMED, DISMISSED, ASSISTED, RISK_ELIMINATED)
ALERT_CLOSED: Final = frozenset({DISMISSED, RISK_ELIMINATED})
ALERT_OPEN: Final = frozenset(ALERT_STATUSES) - ALERT_CLOSED

_ALERT_MOVES: Final[Mapping[str, frozenset[str]]] = {
    RAISED: frozenset({ACKNOWLEDGED}),
    ACKNOWLEDGED: frozenset({VERIFYING}),
    VERIFYING: frozenset({CONFIRMED, DISMISSED}),
    CONFIRMED: frozenset({ASSISTED}),
    ASSISTED: frozenset({RISK_ELIMINATED}),
    DISMISSED: frozenset(),
    RISK_ELIMINATED: frozenset(),
}

ALERT_REASONS: Final[Mapping[str, tuple[str, ...]]] = {
    DISMISSED: ("NO_RISK_FOUND", "ALREADY_ASSISTED", "DATA_ERROR", "MOVED_AWAY", "OTHER"),
}

TOWNSHIP: Final = "township"
COUNTY: Final = "county"
ACKNOWLEDGE_WITHIN: Final = dt.timedelta(hours=24)
EMERGENCY_ACKNOWLEDGE_WITHIN: Final = dt.timedelta(hours=12)


def due_at(raised_at: dt.datetime, *, emergency: bool) -> dt.datetime:
    """When an alert raised at `raised_at` must be acknowledged (seed 004: 12 hours in an emergency)."""
    return raised_at + (EMERGENCY_ACKNOWLEDGE_WITHIN if emergency else ACKNOWLEDGE_WITHIN)


def overdue(*, status: str, due: dt.datetime, now: dt.datetime) -> bool:
    """Still waiting for its acknowledgement after it was due."""
    return status == RAISED and now > due


def overdue_sql(status: sa.ColumnElement[Any], due: sa.ColumnElement[Any], now: dt.datetime) -> sa.ColumnElement[bool]:
    """`overdue` as SQL, for lists that filter on it: the same rule, one definition beside the other."""
    return sa.and_(status == RAISED, due < now)


# ---- the one check of a change ------------------------------------------------------------------


class RefusedChange(ValueError):
    """A change the lifecycle does not allow, or one that lacks what its status needs; says which."""


@dataclass(frozen=True)
class Change:
    """A requested change of status, with what a status may need."""

    to: str
    reason_code: str | None = None
    note: str | None = None
    assignee: str | None = None
    programme: str | None = None
    covered_on: dt.date | None = None


NOTE_LIMIT: Final = 2000
ASSIGNEE_LIMIT: Final = 100
_PROGRAMME = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
# Line breaks and tabs are a note's own; any other control character would reach logs, screens and
# spreadsheets (which refuse some of them outright).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _check_texts(change: Change) -> None:
    """Caseworkers' words are checked before any SQL, so that both stores take and refuse the same (a
    value longer than its column fails a PostgreSQL transaction, audit event and all)."""
    if change.note is not None:
        if len(change.note) > NOTE_LIMIT:
            raise RefusedChange(f"a note has at most {NOTE_LIMIT} characters, not {len(change.note)}")
        if _CONTROL.search(change.note):
            raise RefusedChange("a note may hold line breaks and tabs, but no other control character")
    if change.assignee is not None:
        if not 0 < len(change.assignee) <= ASSIGNEE_LIMIT or change.assignee.strip() != change.assignee:
            raise RefusedChange(f"an assignee is 1 to {ASSIGNEE_LIMIT} characters, without surrounding spaces")
        if _CONTROL.search(change.assignee) or "\n" in change.assignee or "\t" in change.assignee:
            raise RefusedChange("an assignee holds no control character")
    if change.programme is not None and not _PROGRAMME.fullmatch(change.programme):
        raise RefusedChange("a programme is a code of capital letters, digits and _ (at most 40), e.g. DIBAO")


def next_item_statuses(current: str) -> tuple[str, ...]:
    """The statuses an item in `current` may move to, in the lifecycle's order (the console offers these)."""
    allowed = _ITEM_MOVES.get(current, frozenset())
    return tuple(status for status in ITEM_STATUSES if status in allowed)


def next_alert_statuses(current: str) -> tuple[str, ...]:
    """The statuses an alert in `current` may move to, in the lifecycle's order."""
    allowed = _ALERT_MOVES.get(current, frozenset())
    return tuple(status for status in ALERT_STATUSES if status in allowed)


def check_item_change(current: str, change: Change) -> None:
    _check_texts(change)
    _check(current, change, statuses=ITEM_STATUSES, moves=_ITEM_MOVES, reasons=ITEM_REASONS, what="item")
    if change.to == ASSIGNED and not change.assignee:
        raise RefusedChange("ASSIGNED needs an assignee")
    if change.to == COVERED and (not change.programme or change.covered_on is None):
        raise RefusedChange("COVERED needs the programme that now covers and the day it started (coveredOn)")


def check_alert_change(current: str, change: Change) -> None:
    _check_texts(change)
    _check(current, change, statuses=ALERT_STATUSES, moves=_ALERT_MOVES, reasons=ALERT_REASONS, what="alert")


def _check(
    current: str,
    change: Change,
    *,
    statuses: tuple[str, ...],
    moves: Mapping[str, frozenset[str]],
    reasons: Mapping[str, tuple[str, ...]],
    what: str,
) -> None:
    if change.to not in statuses:
        raise RefusedChange(f"{change.to!r} is not a status of an {what}: one of {', '.join(statuses)}")
    allowed = moves[current]
    if change.to not in allowed:
        others = ", ".join(sorted(allowed)) or "none: it is final"
        raise RefusedChange(f"an {what} in {current} cannot become {change.to} (it may become: {others})")
    needed = reasons.get(change.to)
    if needed is None:
        if change.reason_code is not None:
            raise RefusedChange(f"{change.to} takes no reason code")
        return
    if change.reason_code not in needed:
        raise RefusedChange(f"{change.to} needs a reason code, one of {', '.join(needed)}")
    if change.reason_code == "OTHER" and not (change.note and change.note.strip()):
        raise RefusedChange("reason code OTHER needs a note saying what it is")
