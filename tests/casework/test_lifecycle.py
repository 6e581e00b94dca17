"""The item and alert lifecycles: every allowed move, what each status needs, deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from casework import lifecycle as lc
from casework.lifecycle import Change, RefusedChange


@pytest.mark.parametrize(
    ("current", "change"),
    [
        (lc.FOUND, Change(lc.ASSIGNED, assignee="wang")),
        (lc.ASSIGNED, Change(lc.ASSIGNED, assignee="li")),
        (lc.ASSIGNED, Change(lc.VERIFIED)),
        (lc.VERIFIED, Change(lc.COVERED, programme="DIBAO", covered_on=dt.date(2026, 11, 1))),
        (lc.VERIFIED, Change(lc.NOT_ELIGIBLE, reason_code="INCOME_ABOVE_STANDARD")),
        (lc.VERIFIED, Change(lc.FALSE_POSITIVE, reason_code="OTHER", note="the record is a test entry")),
        (lc.VERIFIED, Change(lc.DATA_ERROR, reason_code="WRONG_ID_NUMBER", note="typo")),
        (lc.CLEARED_BY_DATA, Change(lc.REOPENED)),
        (lc.NOT_ELIGIBLE, Change(lc.REOPENED)),
        (lc.REOPENED, Change(lc.ASSIGNED, assignee="wang")),
    ],
)
def test_an_item_makes_each_allowed_move(current: str, change: Change) -> None:
    lc.check_item_change(current, change)


@pytest.mark.parametrize(
    ("current", "change", "message"),
    [
        (lc.FOUND, Change(lc.VERIFIED), "cannot become VERIFIED"),
        (lc.FOUND, Change(lc.CLEARED_BY_DATA), "cannot become CLEARED_BY_DATA"),
        (lc.FOUND, Change(lc.ASSIGNED), "needs an assignee"),
        (lc.VERIFIED, Change(lc.COVERED, programme="DIBAO"), "coveredOn"),
        (lc.VERIFIED, Change(lc.NOT_ELIGIBLE), "needs a reason code"),
        (lc.VERIFIED, Change(lc.NOT_ELIGIBLE, reason_code="WRONG_ID_NUMBER"), "needs a reason code"),
        (lc.VERIFIED, Change(lc.FALSE_POSITIVE, reason_code="OTHER"), "needs a note"),
        (lc.ASSIGNED, Change(lc.VERIFIED, reason_code="DECEASED"), "takes no reason code"),
        (lc.COVERED, Change(lc.ASSIGNED, assignee="li"), "cannot become ASSIGNED"),
        (lc.FOUND, Change("DONE"), "not a status"),
    ],
)
def test_an_item_refuses_a_move_and_says_why(current: str, change: Change, message: str) -> None:
    with pytest.raises(RefusedChange, match=message):
        lc.check_item_change(current, change)


def test_an_alert_walks_its_lifecycle_and_ends() -> None:
    path = [lc.ACKNOWLEDGED, lc.VERIFYING, lc.CONFIRMED, lc.ASSISTED, lc.RISK_ELIMINATED]
    current = lc.RAISED
    for status in path:
        lc.check_alert_change(current, Change(status))
        current = status
    with pytest.raises(RefusedChange, match="none: it is final"):
        lc.check_alert_change(current, Change(lc.RAISED))


def test_an_alert_is_dismissed_only_with_a_reason_and_never_skips_verification() -> None:
    lc.check_alert_change(lc.VERIFYING, Change(lc.DISMISSED, reason_code="NO_RISK_FOUND"))
    with pytest.raises(RefusedChange, match="needs a reason code"):
        lc.check_alert_change(lc.VERIFYING, Change(lc.DISMISSED))
    with pytest.raises(RefusedChange, match="cannot become CONFIRMED"):
        lc.check_alert_change(lc.RAISED, Change(lc.CONFIRMED))


def test_an_emergency_is_due_in_12_hours_others_in_24_and_only_unacknowledged_ones_are_overdue() -> None:
    raised = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert lc.due_at(raised, emergency=True) == raised + dt.timedelta(hours=12)
    assert lc.due_at(raised, emergency=False) == raised + dt.timedelta(hours=24)
    due = lc.due_at(raised, emergency=True)
    assert not lc.overdue(status=lc.RAISED, due=due, now=due)
    assert lc.overdue(status=lc.RAISED, due=due, now=due + dt.timedelta(seconds=1))
    assert not lc.overdue(status=lc.ACKNOWLEDGED, due=due, now=due + dt.timedelta(days=3))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (Change(lc.ASSIGNED, assignee="y" * 101), "1 to 100 characters"),
        (Change(lc.ASSIGNED, assignee=" wang"), "without surrounding spaces"),
        (Change(lc.ASSIGNED, assignee="wang\x1b[2J"), "no control character"),
        (Change(lc.ASSIGNED, assignee="wang", note="n" * 2001), "at most 2000 characters"),
        (Change(lc.ASSIGNED, assignee="wang", note="see \x00 file"), "no other control character"),
    ],
)
def test_a_caseworkers_words_are_bounded_before_any_sql(change: Change, message: str) -> None:
    with pytest.raises(RefusedChange, match=message):
        lc.check_item_change(lc.FOUND, change)


def test_a_programme_is_a_code_and_a_note_keeps_its_line_breaks() -> None:
    lc.check_item_change(lc.FOUND, Change(lc.ASSIGNED, assignee="王芳", note="line one\nline two\tend"))
    with pytest.raises(RefusedChange, match="a programme is a code"):
        lc.check_item_change(lc.VERIFIED, Change(lc.COVERED, programme="x" * 300, covered_on=dt.date(2026, 12, 1)))
    with pytest.raises(RefusedChange, match="no other control character"):
        lc.check_alert_change(lc.RAISED, Change(lc.ACKNOWLEDGED, note="\x1b"))
