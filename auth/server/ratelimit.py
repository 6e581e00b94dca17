"""A sliding-window limit on requests per key (client id), held in one worker's memory."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` requests per key in any `window` seconds.

    Per worker: with N workers a client may get up to N times the limit. That is enough to stop a
    runaway script asking for a token per request; a shared limit would cost a store write per token.
    """

    def __init__(self, *, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit and window must be positive")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: dict[str, deque[float]] = {}

    def acquire(self, key: str) -> float | None:
        """Count one request; None if it is allowed, else the seconds until one more would be."""
        now = self._clock()
        with self._lock:
            times = self._requests.setdefault(key, deque())
            while times and times[0] <= now - self._window:
                times.popleft()
            if len(times) >= self._limit:
                return times[0] + self._window - now
            times.append(now)
            return None


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3)."""
    return str(max(1, math.ceil(seconds)))
