"""The hub's one limiter: requests per key in a sliding window, and failures per key with a lockout."""

from __future__ import annotations

import pytest

from auth.limiter import FailureLockout, SlidingWindow, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_window_counts_each_key_apart_and_says_when_one_more_fits() -> None:
    # given 2 requests per key per 60 s
    clock = FakeClock()
    window = SlidingWindow(limit=2, window=60, clock=clock)
    # when a key asks three times, 10 s apart
    answers = []
    for _ in range(3):
        answers.append(window.acquire("a"))
        clock.now += 10
    # then the third waits until the first leaves the window (60 - 20 s)
    assert answers == [None, None, 40.0]
    # and another key is counted apart
    assert window.acquire("b") is None


def test_a_key_may_have_a_limit_of_its_own() -> None:
    clock = FakeClock()
    window = SlidingWindow(limit=1, window=60, clock=clock)
    # a key allowed 3 gets three, another on the default one, a key with 0 is not counted
    assert [window.acquire("generous", limit=3) for _ in range(4)][-1] == 60.0
    assert [window.acquire("default") for _ in range(2)] == [None, 60.0]
    assert all(window.acquire("unlimited", limit=0) is None for _ in range(100))
    # and a limit lowered below what was counted waits for enough requests to leave the window
    clock.now += 30
    assert window.acquire("generous", limit=1) == 30.0


def test_a_window_forgets_the_least_recent_keys_past_its_bound() -> None:
    clock = FakeClock()
    window = SlidingWindow(limit=1, window=60, clock=clock, keys_kept=2)
    window.acquire("first")
    window.acquire("second")
    window.acquire("third")  # made up keys cannot fill memory: "first" is forgotten
    assert window.acquire("first") is None
    assert window.acquire("third") == 60.0


def test_failures_lock_a_key_out_for_a_while_and_a_success_forgets_them() -> None:
    # given a lockout of 30 s after 3 failures within 60 s
    clock = FakeClock()
    lockout = FailureLockout(limit=3, window=60, lockout=30, clock=clock)
    # when a key fails twice, succeeds, and fails twice more
    lockout.failed("client:a", "address:x")
    lockout.failed("client:a")
    lockout.succeeded("client:a")
    lockout.failed("client:a")
    lockout.failed("client:a")
    # then it is not locked (the success forgot the first two), nor is the address
    assert lockout.locked("client:a") is None and lockout.locked("address:x") is None
    # when it fails a third time, then it is locked for 30 s, and asking about several keys says the longest wait
    lockout.failed("client:a")
    clock.now += 10
    assert lockout.locked("address:x", "client:a") == 20.0
    # and failures older than the window do not count
    lockout.failed("client:b")
    lockout.failed("client:b")
    clock.now += 61
    lockout.failed("client:b")
    assert lockout.locked("client:b") is None
    # and the lockout ends by itself
    assert lockout.locked("client:a") is None


def test_a_failure_says_which_keys_it_has_just_locked_out() -> None:
    # given a lockout after 2 failures, and a name that failed once
    lockout = FailureLockout(limit=2, window=60, lockout=30, clock=FakeClock())
    assert lockout.failed("name:a") == ()
    # when the name fails again with an address that fails for the first time
    # then only the name's lockout has just started (the sign-in audits each start once)
    assert lockout.failed("name:a", "address:x") == ("name:a",)
    assert lockout.failed("address:x") == ("address:x",)


@pytest.mark.parametrize(("seconds", "header"), [(0.0, "1"), (0.2, "1"), (1.0, "1"), (40.01, "41")])
def test_retry_after_is_whole_seconds_rounded_up(seconds: float, header: str) -> None:
    assert retry_after_header(seconds) == header
