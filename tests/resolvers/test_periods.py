"""Periods: "in force on D" and the window of the 12 months before D, as Python and as SQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from resolvers.rules.periods import in_force, in_force_sql, in_window, months_before

D = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D, None, True),  # starts on D
        (D + dt.timedelta(days=1), None, False),  # starts after D
        (dt.date(2020, 1, 1), D, True),  # ends on D
        (dt.date(2020, 1, 1), D - dt.timedelta(days=1), False),  # ended the day before
        (dt.date(2020, 1, 1), None, True),  # open-ended
    ],
)
def test_in_force_on_a_day_in_python_and_in_sql(start: dt.date, end: dt.date | None, expected: bool) -> None:
    # given a record from start to end
    # when it is judged on D in Python and in SQL
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        query = sa.select(
            in_force_sql(sa.literal(start, sa.Date()), sa.literal(end, sa.Date()), day=sa.literal(D, sa.Date()))
        )
        found = bool(connection.execute(query).scalar())
    # then both forms agree with the definition
    assert in_force(start, end, day=D) is expected
    assert found is expected


def test_the_window_is_the_twelve_months_before_the_day() -> None:
    # given D = 1 December 2026
    # when dates around the window's bounds are tested
    # then the day 12 months before is out, the day after it and D itself are in, the day after D out
    assert not in_window(dt.date(2025, 12, 1), day=D)
    assert in_window(dt.date(2025, 12, 2), day=D)
    assert in_window(D, day=D)
    assert not in_window(D + dt.timedelta(days=1), day=D)
    # and a month shorter than the day's falls back to its last day
    assert months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2024, 2, 29), 12) == dt.date(2023, 2, 28)
