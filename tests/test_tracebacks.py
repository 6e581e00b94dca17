"""A failure that repeats, as an outage makes every request fail alike, has its traceback logged once a minute."""

from __future__ import annotations

from auth.request_log import Tracebacks

RESIDENT = "350583195605109609"


def _raised(kind: type[Exception]) -> Exception:
    try:
        raise kind(f"a message that quotes {RESIDENT}")
    except Exception as error:
        return error


def _raised_elsewhere() -> Exception:
    try:
        raise ValueError("another place")
    except Exception as error:
        return error


def test_the_same_failure_is_traced_once_a_minute_and_a_new_one_at_once() -> None:
    # given a throttle on a clock the test moves
    now = [0.0]
    tracebacks = Tracebacks(every_seconds=60, clock=lambda: now[0])
    # when the same failure happens three times within the minute, then once after it
    first, again = tracebacks.of(_raised(ValueError)), tracebacks.of(_raised(ValueError))
    elsewhere = tracebacks.of(_raised_elsewhere())
    now[0] = 61.0
    later = tracebacks.of(_raised(ValueError))
    # then the first and the one after the minute carry the traceback, by type and place, never the message
    for traced in (first, later, elsewhere):
        assert traced.startswith("\nTraceback (most recent call last):") and "builtins.ValueError" in traced
        assert RESIDENT not in traced
    # and the repeat within the minute says only that it repeated
    assert again == " (the same ValueError as logged before, traceback not repeated)"
