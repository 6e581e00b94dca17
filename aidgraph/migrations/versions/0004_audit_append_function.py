"""audit append in one round trip: a function that locks the chain, links and inserts (PostgreSQL only)

The hub appends one event per request; taking the lock, reading the chain's head and inserting took
five round trips from Python. `audit_append` does the same inside the server in one statement, for a
batch of events (a worker gathers the events of concurrent requests: one lock and one round trip for
all of them). Each event's contents are digested in Python (`auth.audit.content_digest`); the
function links the digest to the chain as `sha256(seq || ':' || prev_hash || ':' || digest)`
(`auth.audit.chain_hash`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 22:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION audit_append(p_lock bigint, p_events json) RETURNS bigint LANGUAGE plpgsql AS $$
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
                    seq, at, client_id, roles, purpose, case_id, operation, document_hash, subjects,
                    revealed, masked, withheld, outcome, detail, policy_version, prev_hash, hash
                ) VALUES (
                    last_seq, (event->>'at')::timestamptz, event->>'client_id', event->'roles',
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
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION audit_append")
