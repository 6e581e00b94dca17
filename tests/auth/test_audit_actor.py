"""Migration 0007 on SQLite and PostgreSQL: events written before it still verify; the new `actor` is covered once set.

An event written before the migration is inserted here as the hub wrote it then (its hash over the
columns of that time, its document hash a bare SHA-256), into a store taken back to revision 0006.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command

from aidgraph.db import alembic_config
from auth.audit import GENESIS_HASH, AuditLog, chain_hash, verify
from auth.tables import audit_event
from tests.auth.test_audit import attacker, event, stored_events

# The columns an event's hash covered before migration 0007, as auth/audit.py listed them then.
COLUMNS_BEFORE_0007 = (
    "at", "client_id", "roles", "purpose", "case_id", "operation", "document_hash", "subjects",
    "revealed", "masked", "withheld", "outcome", "detail", "policy_version",
)  # fmt: skip


def written_before_0007(seq: int, prev_hash: str) -> dict[str, Any]:
    """An event as the hub stored it before migration 0007: no actor, an unkeyed document hash."""
    row: dict[str, Any] = {
        "seq": seq,
        "at": datetime(2026, 11, 20, 9, seq, tzinfo=UTC),
        "client_id": "civil-affairs-nanan",
        "roles": ["civil-affairs"],
        "purpose": "assistance-review",
        "case_id": None,
        "operation": "HouseholdPicture",
        "document_hash": hashlib.sha256(b"query HouseholdPicture { ... }").hexdigest(),
        "subjects": [],
        "revealed": ["Person.name"],
        "masked": [],
        "withheld": [],
        "outcome": "ok",
        "detail": None,
        "policy_version": 1,
        "prev_hash": prev_hash,
    }
    payload = {name: row[name] for name in COLUMNS_BEFORE_0007}
    payload["at"] = row["at"].isoformat(timespec="microseconds")
    digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
    row["hash"] = hashlib.sha256(f"{seq}:{prev_hash}:{digest}".encode()).hexdigest()
    return row


@pytest.fixture
def migrated_trail(engine: sa.Engine) -> sa.Engine:
    """A store that held two events before migration 0007, migrated since, and then written by the hub."""
    command.downgrade(alembic_config(engine), "0006")
    first = written_before_0007(1, GENESIS_HASH)
    second = written_before_0007(2, first["hash"])
    columns = (*COLUMNS_BEFORE_0007, "seq", "prev_hash", "hash")
    with engine.begin() as connection:
        connection.execute(sa.insert(audit_event), [{name: row[name] for name in columns} for row in (first, second)])
    command.upgrade(alembic_config(engine), "head")
    log = AuditLog(engine, disclosure_by_key=False)  # lists inline: downgrading past 0016 stays possible
    log.append(event(3, actor="admin-wang"))
    log.append(event(4))
    return engine


def test_events_written_before_the_migration_still_verify_beside_new_ones(migrated_trail: sa.Engine) -> None:
    # given a trail whose first two events were written before migration 0007
    rows = stored_events(migrated_trail)

    # then they kept what they stored: no actor, the bare SHA-256 document hash
    assert [row["actor"] for row in rows] == [None, None, "admin-wang", None]
    assert [len(row["document_hash"]) for row in rows[:2]] == [64, 64]
    # and the whole chain verifies, old events, new ones with an actor and without
    report = verify(migrated_trail)
    assert report.ok, report
    assert report.events_checked == 4
    # and the hash of an event with an actor covers it (it differs from the same row without)
    assert chain_hash(rows[2]) != chain_hash({**rows[2], "actor": None})


@pytest.mark.parametrize(
    ("seq", "actor"),
    [
        pytest.param(3, "admin-li", id="a new event's actor changed"),
        pytest.param(3, None, id="a new event's actor removed"),
        pytest.param(4, "admin-li", id="an actor added to a new event"),
        pytest.param(1, "admin-li", id="an actor added to an event written before the migration"),
    ],
)
def test_an_edited_actor_is_named(migrated_trail: sa.Engine, seq: int, actor: str | None) -> None:
    # when an event's actor is changed behind the hub's back
    with attacker(migrated_trail) as connection:
        connection.execute(sa.update(audit_event).where(audit_event.c.seq == seq).values(actor=actor))

    # then the check names that event as edited
    report = verify(migrated_trail)
    assert (report.ok, report.first_bad_seq) == (False, seq)
    assert report.problem == f"seq {seq} was edited: its contents no longer match its hash"


def test_the_downgrade_refuses_once_events_were_written_under_the_migration(migrated_trail: sa.Engine) -> None:
    # given a trail holding an event with an actor, when the store is taken back before migration 0007
    with pytest.raises(RuntimeError, match="written under revision 0007"):
        command.downgrade(alembic_config(migrated_trail), "0006")
    # then nothing changed, and the trail still verifies
    assert verify(migrated_trail).ok
