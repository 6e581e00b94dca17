"""A circuit breaker per live department source: a source that keeps failing is failed at once for a while."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

FAILURES_TO_OPEN = 5
"""Consecutive failures after which a source is not asked again until the delay below has passed."""
SECONDS_TO_HALF_OPEN = 30.0
"""How long an open breaker fails every request at once before one trial request may reach the source."""

BreakerState = Literal["closed", "open", "half_open"]


class CircuitOpen(Exception):
    """The breaker refused the call without trying it; `detail` says why, for the log."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class SourceHealth:
    """What the hub knows of a live source's health, for metrics and operators: no data, no addresses."""

    department: str
    kind: Literal["database", "http"]
    state: BreakerState
    consecutive_failures: int
    last_failure_at: float | None
    """Unix time of the latest failure, or None if it never failed since the hub started."""
    rows_skipped: int
    """Rows it answered that failed validation (left out of the answers), since the hub started."""


class CircuitBreaker:
    """Closed: calls go through, failures are counted. After `failures_to_open` in a row it opens:
    calls fail at once. After `seconds_to_half_open` one call (the trial) goes through while the
    others still fail at once; its success closes the breaker, its failure opens it again.

    `clock` measures the delay (monotonic, injected so tests need not wait); `wall_clock` only dates
    the latest failure for the health report. Thread-safe: sources are read from worker threads too.
    """

    def __init__(
        self,
        *,
        failures_to_open: int = FAILURES_TO_OPEN,
        seconds_to_half_open: float = SECONDS_TO_HALF_OPEN,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if failures_to_open < 1 or seconds_to_half_open <= 0:
            raise ValueError("a breaker opens after at least one failure and stays open a positive time")
        self._failures_to_open = failures_to_open
        self._seconds_to_half_open = seconds_to_half_open
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._last_failure_at: float | None = None

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def last_failure_at(self) -> float | None:
        return self._last_failure_at

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Around one call to the source: raises CircuitOpen instead of calling when the breaker is open;
        an exception from the call is a failure, its end without one a success."""
        trial = self._admit()
        try:
            yield
        except Exception:
            self._record(success=False, trial=trial)
            raise
        except BaseException:
            self._abandon(trial)  # cancelled: says nothing of the source, but frees the trial
            raise
        else:
            self._record(success=True, trial=trial)

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._trial_running or self._clock() - self._opened_at < self._seconds_to_half_open:
            return "open"
        return "half_open"

    def _admit(self) -> bool:
        """Whether the call is let through as the trial; raises CircuitOpen if it is not let through."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return False
            if state == "half_open":
                self._trial_running = True
                return True
            trial_running = self._trial_running
        if trial_running:
            raise CircuitOpen("circuit open: a trial request is under way")
        raise CircuitOpen(
            f"circuit open after {self._failures} consecutive failures; "
            f"a trial request is let through {self._seconds_to_half_open:g} s after the last"
        )

    def _record(self, *, success: bool, trial: bool) -> None:
        with self._lock:
            if trial:
                self._trial_running = False
            if success:
                self._failures = 0
                self._opened_at = None
                return
            self._failures += 1
            self._last_failure_at = self._wall_clock()
            if self._opened_at is not None or self._failures >= self._failures_to_open:
                self._opened_at = self._clock()

    def _abandon(self, trial: bool) -> None:
        if trial:
            with self._lock:
                self._trial_running = False
