"""The faults bench/soak.py injects into a running hub, each from outside it, as an operator meets them.

A department's own database that stops answering (its tables locked), the hub's store going away and
coming back (its PostgreSQL server stopped and started), and an audit trail that refuses writes (its
table renamed away for a while). None of them touches the hub's code or process.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import yaml

from adapters.catalog import DEPARTMENTS
from tools.pgserver import ThrowawayPostgres

LIVE_DEPARTMENT = "disability"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class LiveDepartment:
    """The disability department read live from a database of its own, loaded from its demo export."""

    def __init__(self, server: ThrowawayPostgres, export: Path) -> None:
        self.url = server.create_database("disability_live")
        self._tables = [spec.name for spec in DEPARTMENTS[LIVE_DEPARTMENT].files]
        with psycopg.connect(_libpq(self.url), autocommit=True) as connection:
            for spec in DEPARTMENTS[LIVE_DEPARTMENT].files:
                columns = ", ".join(f"{column.native} text" for column in spec.columns)
                connection.execute(f"CREATE TABLE {spec.name} ({columns})")
                connection.execute(f"CREATE INDEX ON {spec.name} (sfzh)")
                with connection.cursor().copy(f"COPY {spec.name} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    copy.write((export / spec.file_name).read_bytes().removeprefix(b"\xef\xbb\xbf"))

    def sources_file(self, path: Path, *, timeout_seconds: float) -> Path:
        document = {"departments": {LIVE_DEPARTMENT: {"url": self.url, "timeout_seconds": timeout_seconds}}}
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        return path

    @contextlib.contextmanager
    def hanging(self) -> Iterator[None]:
        """Every read of the department's tables waits until the block ends (an exclusive lock held)."""
        with psycopg.connect(_libpq(self.url)) as connection:
            connection.execute(f"LOCK TABLE {', '.join(self._tables)} IN ACCESS EXCLUSIVE MODE")
            try:
                yield
            finally:
                connection.rollback()


@contextlib.contextmanager
def audit_outage(store_url: str) -> Iterator[None]:
    """The trail refuses every write until the block ends: its table is renamed away, then back."""
    with psycopg.connect(_libpq(store_url), autocommit=True) as connection:
        connection.execute("SET lock_timeout = '10s'")
        connection.execute("ALTER TABLE audit_event RENAME TO audit_event_away")
        try:
            yield
        finally:
            connection.execute("ALTER TABLE audit_event_away RENAME TO audit_event")


def restart_store(server: ThrowawayPostgres, *, down_seconds: float) -> None:
    """Stop the store's server (fast: open sessions are cut), wait, and start it again on its port and data."""
    server.halt()
    time.sleep(down_seconds)
    server.resume()
