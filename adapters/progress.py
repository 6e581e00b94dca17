"""Progress of long work for the operator: a live line on a terminal, one summary line elsewhere.

Written to the operator's own stream (stderr of the command), never to a client: counts and rates only.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Counts done units (rows, households); on a terminal redraws `label: N rows, R rows/s, T left`."""

    def __init__(
        self,
        label: str,
        *,
        unit: str = "rows",
        total: int | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.5,
    ) -> None:
        self.label, self.unit, self.total = label, unit, total
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self._clock, self._interval = clock, interval
        self._started = self._drawn = clock()
        self.done = 0

    def advance(self, count: int) -> None:
        self.done += count
        if self.live and self._clock() - self._drawn >= self._interval:
            self._drawn = self._clock()
            self.stream.write(f"\r{self.line()}\x1b[K")
            self.stream.flush()

    def finish(self) -> None:
        elapsed = self._clock() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        summary = f"{self.label}: {self.done:,} {self.unit} in {elapsed:.1f} s ({rate:,.0f} {self.unit}/s)"
        self.stream.write(f"\r{summary}\x1b[K\n" if self.live else f"{summary}\n")
        self.stream.flush()

    def line(self) -> str:
        elapsed = self._clock() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        text = f"{self.label}: {self.done:,} {self.unit}, {rate:,.0f} {self.unit}/s"
        if self.total and rate > 0:
            left = max(self.total - self.done, 0) / rate
            text += f", {_duration(left)} left"
        return text


def _duration(seconds: float) -> str:
    minutes, rest = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
