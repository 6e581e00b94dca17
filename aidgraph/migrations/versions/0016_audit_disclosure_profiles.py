"""audit trail: an event names its disclosure profile by key instead of repeating ~100 field names

- `audit_disclosure` (new): the fields an event revealed, masked and withheld, one row per distinct
  three lists, under `key`, SHA-256 of their canonical JSON (auth/audit/profiles.py). Inserted once,
  never changed: on PostgreSQL the append-only triggers of 0003/0007 (`ENABLE ALWAYS`) guard it too,
  and PUBLIC holds no UPDATE, DELETE or TRUNCATE on it.
- `audit_event.disclosure_key` (new, nullable, a foreign key to it): new events that disclose fields
  store their lists there and leave their own empty. The event's hash covers the key only when it is set
  (auth/audit/verifier.py), so every event written before this migration, with its lists inline and no
  key, verifies exactly as it did; nothing is rewritten.
- PostgreSQL: `audit_append(lock, events, profiles)` replaces `audit_append(lock, events)`: under the
  chain's lock it inserts the profiles it is given (`ON CONFLICT DO NOTHING`: another writer may have
  stored the same one), then the events, each with its key.

Downgrading is refused once the trail holds an event that names a profile: its lists would be lost.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

KEY_COMMENT = "audit_disclosure row holding the lists (then revealed, masked, withheld are empty)"
FOREIGN_KEY = "audit_event_disclosure_key_fkey"

# {profiles} and {key_*} are filled in for the upgrade, left empty for the downgrade (0007's function).
_AUDIT_APPEND = """
CREATE FUNCTION audit_append(p_lock bigint, p_events json{profiles_parameter}) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    event json;
    last_seq bigint;
    last_hash varchar;
    new_hash varchar;
BEGIN
    -- One writer at a time; each statement below then sees what the previous holder committed.
    PERFORM pg_advisory_xact_lock(p_lock);{profiles_insert}
    SELECT seq, hash INTO last_seq, last_hash FROM audit_event ORDER BY seq DESC LIMIT 1;
    last_seq := coalesce(last_seq, 0);
    last_hash := coalesce(last_hash, repeat('0', 64));
    FOR event IN SELECT value FROM json_array_elements(p_events) LOOP
        last_seq := last_seq + 1;
        new_hash := encode(
            sha256(convert_to(last_seq::text || ':' || last_hash || ':' || (event->>'digest'), 'UTF8')),
            'hex'
        );
        INSERT INTO audit_event (
            seq, at, client_id, actor, roles, purpose, case_id, operation, document_hash, subjects,
            revealed, masked, withheld,{key_column} outcome, detail, policy_version, prev_hash, hash
        ) VALUES (
            last_seq, (event->>'at')::timestamptz, event->>'client_id', event->>'actor', event->'roles',
            event->>'purpose', event->>'case_id', event->>'operation', event->>'document_hash',
            event->'subjects', event->'revealed', event->'masked', event->'withheld',{key_value}
            event->>'outcome', event->>'detail', (event->>'policy_version')::integer,
            last_hash, new_hash
        );
        INSERT INTO audit_subject (subject, seq)
            SELECT json_array_elements_text(event->'subjects'), last_seq;
        last_hash := new_hash;
    END LOOP;
    RETURN last_seq;  -- the batch's events are last_seq - n + 1 .. last_seq, in the given order
END
$$
"""
_PROFILES_INSERT = """
    -- The profiles the writer does not know to be stored; one stored meanwhile is left as it is.
    IF json_array_length(p_profiles) > 0 THEN
        INSERT INTO audit_disclosure (key, revealed, masked, withheld)
            SELECT profile->>'key', profile->'revealed', profile->'masked', profile->'withheld'
            FROM json_array_elements(p_profiles) AS profile
            ON CONFLICT (key) DO NOTHING;
    END IF;"""
TRIGGERS = ("audit_disclosure_append_only", "audit_disclosure_no_truncate")


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    op.create_table(
        "audit_disclosure",
        sa.Column(
            "key", sa.String(length=64), nullable=False, comment="sha256 hex of the three lists (canonical JSON)"
        ),
        sa.Column("revealed", sa.JSON(), nullable=False, comment="Type.field revealed unmasked"),
        sa.Column("masked", sa.JSON(), nullable=False, comment="Type.field masked"),
        sa.Column("withheld", sa.JSON(), nullable=False, comment="Type.field withheld"),
        sa.PrimaryKeyConstraint("key"),
    )
    if not postgresql:
        # SQLite adds a column with its foreign key in place; a batch would copy the whole trail.
        op.execute("ALTER TABLE audit_event ADD COLUMN disclosure_key VARCHAR(64) REFERENCES audit_disclosure (key)")
        return
    op.add_column("audit_event", sa.Column("disclosure_key", sa.String(length=64), nullable=True, comment=KEY_COMMENT))
    op.create_foreign_key(FOREIGN_KEY, "audit_event", "audit_disclosure", ["disclosure_key"], ["key"])
    op.execute(
        "CREATE TRIGGER audit_disclosure_append_only BEFORE UPDATE OR DELETE ON audit_disclosure "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_disclosure_no_truncate BEFORE TRUNCATE ON audit_disclosure "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )
    for trigger in TRIGGERS:
        op.execute(f"ALTER TABLE audit_disclosure ENABLE ALWAYS TRIGGER {trigger}")
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_disclosure FROM PUBLIC")
    op.execute("DROP FUNCTION audit_append(bigint, json)")
    op.execute(
        _AUDIT_APPEND.format(
            profiles_parameter=", p_profiles json",
            profiles_insert=_PROFILES_INSERT,
            key_column=" disclosure_key,",
            key_value=" event->>'disclosure_key',",
        )
    )


def downgrade() -> None:
    named = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_event WHERE disclosure_key IS NOT NULL"))
    if named.scalar_one():
        raise RuntimeError("the audit trail holds events that name a disclosure profile: downgrading would lose them")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_append(bigint, json, json)")
        op.execute(_AUDIT_APPEND.format(profiles_parameter="", profiles_insert="", key_column="", key_value=""))
        op.drop_constraint(FOREIGN_KEY, "audit_event", type_="foreignkey")
        op.drop_column("audit_event", "disclosure_key")
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger} ON audit_disclosure")
    else:
        with op.batch_alter_table("audit_event") as batch:
            batch.drop_column("disclosure_key")
    op.drop_table("audit_disclosure")
