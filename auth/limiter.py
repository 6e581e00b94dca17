"""The hub's one limiter: events per key (a client id, an address) in a sliding window, in one worker's memory.

Three uses, one count. `SlidingWindow` lets at most `limit` requests per key through in any `window`
seconds (token requests, /graphql and export requests per client). `FailureLockout` counts failures
per key and, once `limit` of them fall within `window` seconds, refuses the key for `lockout`
seconds (failed token requests per claimed client id and per address; a sign-in's failed passwords).
`MissLimit` holds back a client whose look-ups by key found nothing too often (resolvers/lookups.py).

Per worker: with N workers a key may get up to N times a limit. That is enough to stop a runaway
script or a guessing loop; a shared count would cost a store round trip per request. A worker keeps
at most `keys_kept` keys, forgetting the least recently seen first, so keys an attacker makes up
(claimed client ids, addresses) cannot fill its memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

KEYS_KEPT = 10_000
Clock = Callable[[], float]


class _Events:
    """The times of recent events per key, oldest first; callers hold the lock."""

    def __init__(self, *, window: float, keys_kept: int) -> None:
        self.window = window
        self._keys_kept = keys_kept
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    def recent(self, key: str, now: float) -> deque[float]:
        """The key's events inside the window ending now (the key becomes the most recently seen)."""
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque()
            if len(self._times) > self._keys_kept:
                self._times.popitem(last=False)
        else:
            self._times.move_to_end(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def forget(self, key: str) -> None:
        self._times.pop(key, None)


class SlidingWindow:
    """At most `limit` requests per key in any `window` seconds (0: no limit); a key may have a limit of its own."""

    def __init__(
        self, *, limit: int, window: float = 60.0, clock: Clock = time.monotonic, keys_kept: int = KEYS_KEPT
    ) -> None:
        if limit < 0 or window <= 0:
            raise ValueError("the limit must not be negative, the window must be positive")
        self._limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._events = _Events(window=window, keys_kept=keys_kept)

    def acquire(self, key: str, *, limit: int | None = None) -> float | None:
        """Count one request; None if it is allowed, else the seconds until one more would be.

        `limit` replaces the window's own for this key (a client's registered limit); 0 lets it through
        uncounted.
        """
        allowed = self._limit if limit is None else limit
        if allowed == 0:
            return None
        now = self._clock()
        with self._lock:
            times = self._events.recent(key, now)
            if len(times) >= allowed:
                # The oldest counted request that must leave the window before one more fits.
                return times[len(times) - allowed] + self._events.window - now
            times.append(now)
            return None


class FailureLockout:
    """After `limit` failures of a key within `window` seconds, the key is refused for `lockout` seconds."""

    def __init__(
        self,
        *,
        limit: int,
        window: float = 60.0,
        lockout: float = 60.0,
        clock: Clock = time.monotonic,
        keys_kept: int = KEYS_KEPT,
    ) -> None:
        if limit < 1 or window <= 0 or lockout <= 0:
            raise ValueError("limit, window and lockout must be positive")
        self._limit = limit
        self._lockout = lockout
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = _Events(window=window, keys_kept=keys_kept)
        self._locked_until: OrderedDict[str, float] = OrderedDict()
        self._keys_kept = keys_kept

    def locked(self, *keys: str) -> float | None:
        """The seconds until the last of these keys is let in again; None when none is locked."""
        now = self._clock()
        with self._lock:
            waits = [until - now for key in keys if (until := self._locked_until.get(key, 0.0)) > now]
        return max(waits) if waits else None

    def failed(self, *keys: str) -> tuple[str, ...]:
        """Count one failure for each key; a key reaching the limit is locked out from now. Return those keys."""
        now = self._clock()
        locked: list[str] = []
        with self._lock:
            for key in keys:
                times = self._failures.recent(key, now)
                times.append(now)
                if len(times) >= self._limit:
                    self._failures.forget(key)  # counting starts again once the lockout is over
                    self._locked_until[key] = now + self._lockout
                    self._locked_until.move_to_end(key)
                    if len(self._locked_until) > self._keys_kept:
                        self._locked_until.popitem(last=False)
                    locked.append(key)
        return tuple(locked)

    def succeeded(self, *keys: str) -> None:
        """A success forgets the keys' failures (not a lockout already running)."""
        with self._lock:
            for key in keys:
                self._failures.forget(key)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3)."""
    return str(max(1, math.ceil(seconds)))


class MissLimit:
    """At most `per_minute` missed look-ups per client in any minute; then every look-up waits.

    Held in one worker's memory, like every limit here: with N workers a
    client may miss up to N times as often.
    """

    def __init__(self, *, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._misses = SlidingWindow(limit=per_minute, window=60.0, clock=clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._blocked_until: dict[str, float] = {}

    def wait(self, client_id: str) -> float | None:
        """Seconds until the client may look up again; None when it may now."""
        with self._lock:
            until = self._blocked_until.get(client_id)
            if until is None:
                return None
            left = until - self._clock()
            if left <= 0:
                del self._blocked_until[client_id]
                return None
            return left

    def missed(self, client_id: str) -> float | None:
        """Count one miss; None if it was within the limit, else the seconds the client now waits."""
        left = self._misses.acquire(client_id)
        if left is not None:
            with self._lock:
                self._blocked_until[client_id] = self._clock() + left
        return left
