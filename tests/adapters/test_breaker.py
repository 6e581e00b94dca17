"""The circuit breaker of a live source: when it opens, when it lets one trial through, what closes it."""

from __future__ import annotations

import pytest

from adapters.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SourceDown(Exception):
    pass


def fail(breaker: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(SourceDown), breaker.guard():
            raise SourceDown


def succeed(breaker: CircuitBreaker) -> None:
    with breaker.guard():
        pass


def test_only_failures_in_a_row_open_it() -> None:
    # given a breaker that failed four times, then succeeded, then failed four times again
    breaker = CircuitBreaker()
    fail(breaker, 4)
    succeed(breaker)
    fail(breaker, 4)
    # then it is still closed: a success starts the count again
    assert (breaker.state, breaker.consecutive_failures) == ("closed", 4)
    # when it fails a fifth time in a row
    fail(breaker)
    # then it is open, and refuses a call without making it
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen, match="after 5 consecutive failures"), breaker.guard():
        pytest.fail("an open breaker let a call through")


def test_half_open_lets_one_trial_through_and_refuses_the_others_meanwhile() -> None:
    # given a breaker opened by five failures, thirty seconds ago
    clock = Clock(100.0)
    breaker = CircuitBreaker(clock=clock)
    fail(breaker, 5)
    clock.now += 30
    assert breaker.state == "half_open"
    # when a trial is under way
    with breaker.guard():
        # then a second call meanwhile is refused
        assert breaker.state == "open"
        with pytest.raises(CircuitOpen, match="a trial request is under way"), breaker.guard():
            pytest.fail("a second call went through during the trial")
    # and the trial's success closed the breaker
    assert (breaker.state, breaker.consecutive_failures) == ("closed", 0)


def test_a_cancelled_trial_frees_the_way_for_the_next() -> None:
    # given a half-open breaker whose trial is cancelled (the client went away)
    clock = Clock(0.0)
    breaker = CircuitBreaker(clock=clock)
    fail(breaker, 5)
    clock.now += 30
    with pytest.raises(KeyboardInterrupt), breaker.guard():
        raise KeyboardInterrupt
    # then the cancellation said nothing of the source: the next call is the trial
    assert (breaker.state, breaker.consecutive_failures) == ("half_open", 5)
    succeed(breaker)
    assert breaker.state == "closed"


def test_the_latest_failure_is_dated_by_the_wall_clock() -> None:
    # given a breaker whose delay clock and wall clock differ
    breaker = CircuitBreaker(clock=Clock(5.0), wall_clock=Clock(1_764_500_000.0))
    assert breaker.last_failure_at is None
    # when a call fails
    fail(breaker)
    # then the failure is dated in Unix time, for an operator to read
    assert breaker.last_failure_at == 1_764_500_000.0
