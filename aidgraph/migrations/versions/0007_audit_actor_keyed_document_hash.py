"""audit trail: the acting person (`actor`), keyed document hashes, triggers that replica mode cannot skip

- `audit_event.actor` (new, nullable): the person who acted (a command's `--by`), beside the client.
  An event's hash covers `actor` only when it is set (auth/audit/verifier.py), so every event written
  before this migration, all of them with a null actor, verifies exactly as it did.
- `audit_event.document_hash` widens from 64 to 80 characters: new events store
  `hmac-sha256:<64 hex>`, HMAC-SHA-256 of the query document under the hub's document key
  (`hub_secret` row `document-key`), because an unkeyed SHA-256 of a query holding a resident id gave
  the id away to anyone hashing candidate queries. Events already in the trail keep the bare SHA-256
  hex digest they stored: nothing is rewritten (the trail is append-only, and rewriting a value would
  break its event's link), so the chain still verifies. The prefix tells the two kinds apart.
- PostgreSQL: `audit_append` also inserts `actor`; and the append-only triggers of 0003 are set to
  `ENABLE ALWAYS`. An ordinary trigger fires only in the default `origin` replication role, so a
  superuser's `SET session_replication_role = replica` skipped them and could UPDATE and DELETE audit
  rows; an ALWAYS trigger fires in every role. (Dropping or disabling a trigger still takes the
  tables' owner or a superuser: see auth/audit/writer.py on running the hub under another role.)

Downgrading is refused once the trail holds an event written under this revision: dropping `actor`,
or narrowing `document_hash`, would break its link.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGGERS = {
    "audit_event": ("audit_event_append_only", "audit_event_no_truncate"),
    "audit_subject": ("audit_subject_append_only", "audit_subject_no_truncate"),
}
DOCUMENT_HASH_COMMENT = "hmac-sha256:<hex>, document key (older: sha256)"

# audit_append of 0004, with `actor`: {actor_column} and {actor_value} are filled in for the upgrade,
# left empty for the downgrade.
_AUDIT_APPEND = """
CREATE OR REPLACE FUNCTION audit_append(p_lock bigint, p_events json) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    event json;
    last_seq bigint;
    last_hash varchar;
    new_hash varchar;
BEGIN
    -- One writer at a time; each statement below then sees what the previous holder committed.
    PERFORM pg_advisory_xact_lock(p_lock);
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
            seq, at, client_id,{actor_column} roles, purpose, case_id, operation, document_hash, subjects,
            revealed, masked, withheld, outcome, detail, policy_version, prev_hash, hash
        ) VALUES (
            last_seq, (event->>'at')::timestamptz, event->>'client_id',{actor_value} event->'roles',
            event->>'purpose', event->>'case_id', event->>'operation', event->>'document_hash',
            event->'subjects', event->'revealed', event->'masked', event->'withheld',
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


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(
            sa.Column(
                "actor",
                sa.String(length=100),
                nullable=True,
                comment="the person who acted (a command's --by), if one did",
            )
        )
        batch.alter_column(
            "document_hash",
            existing_type=sa.String(length=64),
            type_=sa.String(length=80),
            existing_nullable=True,
            comment=DOCUMENT_HASH_COMMENT,
        )
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(_AUDIT_APPEND.format(actor_column=" actor,", actor_value=" event->>'actor',"))
    for table, triggers in TRIGGERS.items():
        for trigger in triggers:
            op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


def downgrade() -> None:
    written_since = op.get_bind().execute(
        sa.text("SELECT count(*) FROM audit_event WHERE actor IS NOT NULL OR document_hash LIKE 'hmac-sha256:%'")
    )
    if written_since.scalar_one():
        raise RuntimeError("the audit trail holds events written under revision 0007: downgrading would break them")
    if op.get_context().dialect.name == "postgresql":
        for table, triggers in TRIGGERS.items():
            for trigger in triggers:
                op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        op.execute(_AUDIT_APPEND.format(actor_column="", actor_value=""))
    with op.batch_alter_table("audit_event") as batch:
        batch.alter_column(
            "document_hash",
            existing_type=sa.String(length=80),
            type_=sa.String(length=64),
            existing_nullable=True,
            comment=None,
            existing_comment=DOCUMENT_HASH_COMMENT,
        )
        batch.drop_column("actor")
