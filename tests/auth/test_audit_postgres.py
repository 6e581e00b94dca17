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

CHANGES = {
    "update": "UPDATE {table} SET seq = seq",
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


def counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            connection.execute(sa.text("SELECT count(*) FROM audit_event")).scalar_one(),
            connection.execute(sa.text("SELECT count(*) FROM audit_subject")).scalar_one(),
        )


@pytest.mark.parametrize("table", ["audit_event", "audit_subject"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_triggers_refuse_changes_even_to_the_tables_owner(pg_engine: sa.Engine, table: str, change: str) -> None:
    # given a trail of three events, and a connection as the tables' owner (a superuser, even)
    # when a row is updated, rows deleted, or the table truncated
    with pytest.raises(sa.exc.DBAPIError) as refused, pg_engine.begin() as connection:
        connection.execute(sa.text(CHANGES[change].format(table=table)))

    # then it is refused, saying why
    assert f"the audit trail is append-only: {change.upper()} on {table} is not allowed" in str(refused.value)
    # and the trail is as it was
    assert counts(pg_engine) == (3, 3)
    assert verify(pg_engine).ok


@pytest.mark.parametrize("table", ["audit_event", "audit_subject"])
@pytest.mark.parametrize("change", list(CHANGES))
def test_replica_mode_does_not_skip_the_triggers(pg_engine: sa.Engine, table: str, change: str) -> None:
    # given a trail of three events, and a connection as the store's superuser in replica mode, which
    # skips every trigger not enabled ALWAYS (what logical replication's apply workers run in)
    with pytest.raises(sa.exc.DBAPIError) as refused, pg_engine.begin() as connection:
        assert connection.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one()
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        # when a row is updated, rows deleted, or the table truncated
        connection.execute(sa.text(CHANGES[change].format(table=table)))

    # then it is refused all the same, and the trail is as it was
    assert f"the audit trail is append-only: {change.upper()} on {table} is not allowed" in str(refused.value)
    assert counts(pg_engine) == (3, 3)
    assert verify(pg_engine).ok


def test_every_trigger_of_the_trail_is_enabled_always(pg_engine: sa.Engine) -> None:
    # given a store migrated from scratch, when its triggers on the trail are listed
    with pg_engine.connect() as connection:
        triggers = connection.execute(
            sa.text(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgrelid IN ('audit_event'::regclass, 'audit_subject'::regclass) "
                "ORDER BY 1, 2"
            )
        ).all()
    # then each of the four fires in every replication role ('A'), not only in origin mode ('O')
    assert [tuple(row) for row in triggers] == [
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
        connection.execute(sa.text(f"GRANT SELECT, INSERT ON audit_event, audit_subject TO {role}"))
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
    for table in ("audit_event", "audit_subject"):
        for change in CHANGES.values():
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as connection:
                connection.execute(sa.text(change.format(table=table)))


def test_public_holds_no_update_delete_or_truncate_privilege(pg_engine: sa.Engine) -> None:
    # given the migrated store, when the privileges granted to PUBLIC on the trail are listed
    with pg_engine.connect() as connection:
        granted = connection.execute(
            sa.text(
                "SELECT table_name, privilege_type FROM information_schema.table_privileges "
                "WHERE grantee = 'PUBLIC' AND table_name IN ('audit_event', 'audit_subject')"
            )
        ).all()
    # then there are none
    assert granted == []


def test_migration_0003_downgrades_and_upgrades(pg_engine: sa.Engine) -> None:
    # given the migrated store, when migration 0003 is undone
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
