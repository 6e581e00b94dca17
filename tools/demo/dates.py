"""The demo world's calendar: today, the school terms and small date helpers."""

from __future__ import annotations

import datetime as dt
import random

TODAY = dt.date(2026, 11, 23)
# The moment the departments exported the demo's files (their modification time, which ingest takes as
# the export's as-of): on TODAY, so that a comparison or scan as of TODAY reads them.
EXPORTED_AT = dt.datetime.combine(TODAY, dt.time(8, 0), dt.UTC)
# Records are dated up to yesterday: nothing is paid, assessed or settled "today" or later.
LAST_DAY = TODAY - dt.timedelta(days=1)

TERM = "2026-2027-1"
TERM_START = dt.date(2026, 9, 1)
PREV_TERM = "2025-2026-2"
PREV_TERM_START = dt.date(2026, 3, 1)
# Stage and grade follow the age on 31 August before the school year (the national cut-off).
SCHOOL_YEAR_CUTOFF = dt.date(2026, 8, 31)
PREV_SCHOOL_YEAR_CUTOFF = dt.date(2025, 8, 31)


def between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A uniformly drawn day in [first, last]; last is clamped so the result is never after LAST_DAY."""
    end = min(last, LAST_DAY).toordinal()
    start = min(first.toordinal(), end)
    return dt.date.fromordinal(rng.randint(start, end))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for clamp in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, clamp)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def end_of_period(start: dt.date, months: int) -> dt.date:
    """Last day of a period of `months` starting on `start` (e.g. a 12-month gradual exit)."""
    return add_months(start, months) - dt.timedelta(days=1)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def compact(day: dt.date) -> str:
    """Medical insurance writes dates as YYYYMMDD."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"
