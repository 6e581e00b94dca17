"""Progress of long work: a live line with rows, rows/s and time left on a terminal; one summary line elsewhere."""

from __future__ import annotations

import io
import os
from pathlib import Path

import sqlalchemy as sa

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest
from adapters.progress import Progress
from tests.world import write_world


class Clock:
    """A clock the test moves by hand, so what is printed does not depend on the machine's speed."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_the_line_shows_rows_rate_and_time_left() -> None:
    # given progress written to a terminal (a real pseudo-terminal), 1,000 rows to do
    leader, follower = os.openpty()
    clock = Clock()
    with os.fdopen(follower, "w") as terminal:
        progress = Progress("ingest", total=1000, stream=terminal, clock=clock)
        # when 250 rows are done in 5 seconds, then the rest
        clock.now += 5
        progress.advance(250)
        clock.now += 15
        progress.advance(750)
        progress.finish()
    written = _read_all(leader)
    # then the live line said rows, rows/s and the time left, and the last line sums up
    assert "ingest: 250 rows, 50 rows/s, 15 s left" in written
    assert "ingest: 1,000 rows in 20.0 s (50 rows/s)" in written


def _read_all(leader: int) -> str:
    """Everything written to the terminal: a pseudo-terminal hands it over in pieces, then EIO once closed."""
    chunks = []
    try:
        while chunk := os.read(leader, 4096):
            chunks.append(chunk)
    except OSError:  # the follower side is closed: nothing more to read
        pass
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


def test_elsewhere_only_one_summary_line_is_written() -> None:
    # given progress written to a file, not a terminal
    stream, clock = io.StringIO(), Clock()
    progress = Progress("demo", unit="households", total=10, stream=stream, clock=clock)
    # when the work advances step by step and finishes
    for _ in range(10):
        clock.now += 1
        progress.advance(1)
    progress.finish()
    # then one line sums it up
    assert stream.getvalue() == "demo: 10 households in 10.0 s (1 households/s)\n"


def test_an_import_counts_every_row_it_reads(engine: sa.Engine, tmp_path: Path) -> None:
    # given every department's export of the tiny world
    world = write_world(tmp_path / "world")
    stream = io.StringIO()
    progress = Progress("ingest", stream=stream)
    # when it is imported with progress
    outcome = ingest(
        engine, [(department, world / name) for name, department in DEPARTMENTS.items()], progress=progress
    )
    # then the progress counted every row read, and knew the total in advance
    read = sum(file.read for report in outcome.departments for file in report.files)
    assert progress.done == read == progress.total
    assert stream.getvalue().startswith(f"ingest: {read} rows in ")
