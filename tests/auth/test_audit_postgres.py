"""The audit trail is append-only on PostgreSQL: triggers refuse changes, and the app role lacks the privileges."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from aidgraph.db import alembic_config, create_engine
from auth.audit import AuditEvent, AuditLog, access_log, verify
from tools.pgserver import ThrowawayPostgres

NANAN = "35058319870102123X"
_numbers = itertools.count()

TABLES = ["audit_event", "audit_subject", "audit_disclosure"]
CHANGES = {
    "update": "UPDATE {table} SET {column} = {column}",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table}",
}


def event(number: int) -> AuditEvent:
    return AuditEvent(
        at=datetime(2026, 11, 24, 9, number, tzinfo=UTC),
        client_id="civil-affairs-nanan",
        outcome="ok",
        roles=["civil-affairs"],
        purpose="assistance-review",
        subjects=[NANAN],
        revealed=["Person.name"],
    )


@pytest.fixture
def pg_url(postgres: ThrowawayPostgres) -> str:
    """A migrated PostgreSQL store of its own, with three events in its trail."""
    url = postgres.create_database(f"audit_{next(_numbers)}", template="aidgraph_template")
    engine = create_engine(url)
    log = AuditLog(engine)
    for number in range(3):
        log.append(event(number))
    engine.dispose()
    return url


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def change(kind: str, table: str) -> str:
    """The statement making that kind of change to the table (an update rewrites a column as it is)."""
    return CHANGES[kind].format(table=table, column="key" if table == "audit_disclosure" else "seq")


def refusal(kind: str, table: str) -> str:
    """What PostgreSQL says when it refuses the change: the trigger's words, or, truncating the profiles
    the events name, the foreign key's (checked before any trigger fires)."""
    if (kind, table) == ("truncate", "audit_disclosure"):
        return "cannot truncate a table referenced in a foreign key constraint"
    return f"the audit trail is append-only: {kind.upper()} on {table} is not allowed"


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    """Events, subject rows, disclosure profiles (the fixture's three events share one)."""
    with engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES
        )


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("kind", list(CHANGES))
def test_triggers_refuse_changes_even_to_the_tables_owner(pg_engine: sa.Engine, table: str, kind: str) -> None:
    # given a trail of three events, and a connection as the tables' owner (a superuser, even)
    # when a row is updated, rows deleted, or the table truncated
    with pytest.raises(sa.exc.DBAPIError) as refused, pg_engine.begin() as connection:
        connection.execute(sa.text(change(kind, table)))

    # then it is refused, saying why
    assert refusal(kind, table) in str(refused.value)
    # and the trail is as it was
    assert counts(pg_engine) == (3, 3, 1)
    assert verify(pg_engine).ok


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("kind", list(CHANGES))
def test_replica_mode_does_not_skip_the_triggers(pg_engine: sa.Engine, table: str, kind: str) -> None:
    # given a trail of three events, and a connection as the store's superuser in replica mode, which
    # skips every trigger not enabled ALWAYS (what logical replication's apply workers run in)
    with pytest.raises(sa.exc.DBAPIError) as refused, pg_engine.begin() as connection:
        assert connection.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one()
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        # when a row is updated, rows deleted, or the table truncated
        connection.execute(sa.text(change(kind, table)))

    # then it is refused all the same, and the trail is as it was
    assert refusal(kind, table) in str(refused.value)
    assert counts(pg_engine) == (3, 3, 1)
    assert verify(pg_engine).ok


def test_every_trigger_of_the_trail_is_enabled_always(pg_engine: sa.Engine) -> None:
    # given a store migrated from scratch, when its triggers on the trail are listed
    with pg_engine.connect() as connection:
        triggers = connection.execute(
            sa.text(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgrelid IN "
                "('audit_event'::regclass, 'audit_subject'::regclass, 'audit_disclosure'::regclass) "
                "ORDER BY 1, 2"
            )
        ).all()
    # then each of the six fires in every replication role ('A'), not only in origin mode ('O')
    assert [tuple(row) for row in triggers] == [
        ("audit_disclosure", "audit_disclosure_append_only", "A"),
        ("audit_disclosure", "audit_disclosure_no_truncate", "A"),
        ("audit_event", "audit_event_append_only", "A"),
        ("audit_event", "audit_event_no_truncate", "A"),
        ("audit_subject", "audit_subject_append_only", "A"),
        ("audit_subject", "audit_subject_no_truncate", "A"),
    ]


@pytest.fixture
def app_engine(postgres: ThrowawayPostgres, pg_url: str, pg_engine: sa.Engine) -> Iterator[sa.Engine]:
    """An engine logged in as a role granted what auth/audit/writer.py's docstring says, and nothing more."""
    role = f"audit_app_{make_url(pg_url).database}"
    with pg_engine.begin() as connection:
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        connection.execute(sa.text(f"GRANT SELECT, INSERT ON audit_event, audit_subject, audit_disclosure TO {role}"))
        connection.execute(sa.text(f"GRANT SELECT, INSERT ON hub_secret TO {role}"))
    engine = create_engine(make_url(pg_url).set(username=role).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with pg_engine.begin() as connection:
        connection.execute(sa.text(f"DROP OWNED BY {role}"))
        connection.execute(sa.text(f"DROP ROLE {role}"))


def test_the_app_role_appends_and_reads_but_cannot_change_the_trail(app_engine: sa.Engine) -> None:
    # given the hub logged in as a role granted only SELECT and INSERT on the trail
    # when it appends an event, then it can, and can verify and read the trail
    assert AuditLog(app_engine).append(event(4)) == 4
    assert verify(app_engine).ok
    assert [entry.seq for entry in access_log(app_engine, NANAN, first=10)] == [4, 3, 2, 1]

    # when it tries to change the trail, then the privileges refuse it before any trigger would
    for table in TABLES:
        for kind in CHANGES:
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as connection:
                connection.execute(sa.text(change(kind, table)))


def test_public_holds_no_update_delete_or_truncate_privilege(pg_engine: sa.Engine) -> None:
    # given the migrated store, when the privileges granted to PUBLIC on the trail are listed
    with pg_engine.connect() as connection:
        granted = connection.execute(
            sa.text(
                "SELECT table_name, privilege_type FROM information_schema.table_privileges "
                "WHERE grantee = 'PUBLIC' AND table_name IN ('audit_event', 'audit_subject', 'audit_disclosure')"
            )
        ).all()
    # then there are none
    assert granted == []


def test_migration_0003_downgrades_and_upgrades(postgres: ThrowawayPostgres) -> None:
    # given a migrated store whose events hold their lists inline (a trail naming profiles does not go
    # back past migration 0016), when migration 0003 is undone
    pg_engine = create_engine(postgres.create_database(f"audit_{next(_numbers)}", template="aidgraph_template"))
    log = AuditLog(pg_engine, disclosure_by_key=False)
    for number in range(3):
        log.append(event(number))
    command.downgrade(alembic_config(pg_engine), "0002")

    # then the trail can be changed again (what 0003 prevents)
    with pg_engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_event SET outcome = 'edited' WHERE seq = 2"))

    # when it is redone, then the change shows (verified at head: the checker reads the newest columns)
    command.upgrade(alembic_config(pg_engine), "head")
    assert verify(pg_engine).first_bad_seq == 2
    # and changes are refused once more
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), pg_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_event WHERE seq = 2"))
    pg_engine.dispose()
