"""Opening the hub's store (SQLite by default, PostgreSQL via psycopg 3) and migrating it."""

from __future__ import annotations

import functools
import select
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy would otherwise pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, statement_timeout: float = 0, **options: Any) -> sa.Engine:
    """An engine on the store; `statement_timeout` (seconds, PostgreSQL only, 0: none) bounds each statement.

    Only the engine that serves requests sets one: ingest, comparison runs and streamed exports run
    statements that may rightly take long, and have bounds of their own.
    """
    url = normalize_url(url)
    # A statement's parameters are resident ids: kept out of SQLAlchemy's log and its error messages.
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, **options)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    # The store's batch reads are prepared statements over key arrays; PostgreSQL's default would
    # keep re-planning them (a custom plan looks cheaper for each array), costing more than it runs.
    # JIT compilation costs seconds on the eligible-students count over a million persons and saves
    # nothing on the hub's short statements (docs/students.md).
    server_options = "-c plan_cache_mode=force_generic_plan -c jit=off"
    if statement_timeout:
        server_options += f" -c statement_timeout={max(1, round(statement_timeout * 1000))}"
    options.setdefault("connect_args", {"options": server_options})
    engine = sa.create_engine(url, **options)
    if not options.get("pool_pre_ping"):
        sa.event.listen(engine, "connect", _note_use)
        sa.event.listen(engine, "checkin", _note_use)
        sa.event.listen(engine, "checkout", functools.partial(_ping_if_idle, engine.dialect))
    return engine


IDLE_BEFORE_PING = 30.0
"""Seconds a pooled connection may rest before it is tried with a round trip on checkout, whatever its
socket says (a network that dropped it silently)."""
_USED = "aidgraph_used_at"


def _note_use(_dbapi_connection: Any, record: Any) -> None:
    record.info[_USED] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Try a pooled connection before a request gets it only when it may be dead: its socket has
    something to read (nothing arrives on an idle connection but the server's goodbye when it stops or
    restarts), or it rested long. A round trip per request (SQLAlchemy's `pool_pre_ping`) cost about a
    tenth of a household picture's time; a restart between requests still goes unnoticed. The ping is
    the dialect's own, in autocommit, so that it leaves no transaction open behind it."""
    rested = time.monotonic() - record.info.get(_USED, 0.0) >= IDLE_BEFORE_PING
    if not rested and not _readable(dbapi_connection):
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as error:  # the pool makes a new connection and tries again (up to three times)
        raise sa.exc.DisconnectionError("a pooled connection did not answer") from error


def _readable(dbapi_connection: Any) -> bool:
    try:
        ready, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except (OSError, ValueError):  # closed already
        return True
    return bool(ready)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the server read while an ingest writes; NORMAL sync is safe with WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(engine: sa.Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(engine: sa.Engine) -> None:
    """Bring the store to the newest schema (safe to call on every start)."""
    command.upgrade(alembic_config(engine), "head")
