"""audit append in one round trip: a function that locks the chain, links and inserts (PostgreSQL only)

The hub appends one event per request; taking the lock, reading the chain's head and inserting took
five round trips from Python. `audit_append` does the same inside the server in one statement. The
event's contents are digested in Python (`auth.audit.content_digest`); the function links that
digest to the chain as `sha256(seq || ':' || prev_hash || ':' || digest)` (`auth.audit.chain_hash`).

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
        CREATE FUNCTION audit_append(
            p_lock bigint, p_at timestamptz, p_client_id varchar, p_roles json, p_purpose varchar,
            p_case_id varchar, p_operation varchar, p_document_hash varchar, p_subjects json,
            p_revealed json, p_masked json, p_withheld json, p_outcome varchar, p_detail varchar,
            p_policy_version integer, p_digest varchar
        ) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            last_seq bigint;
            last_hash varchar;
            new_seq bigint;
        BEGIN
            -- One writer at a time; each statement below then sees what the previous holder committed.
            PERFORM pg_advisory_xact_lock(p_lock);
            SELECT seq, hash INTO last_seq, last_hash FROM audit_event ORDER BY seq DESC LIMIT 1;
            new_seq := coalesce(last_seq, 0) + 1;
            last_hash := coalesce(last_hash, repeat('0', 64));
            INSERT INTO audit_event (
                seq, at, client_id, roles, purpose, case_id, operation, document_hash, subjects,
                revealed, masked, withheld, outcome, detail, policy_version, prev_hash, hash
            ) VALUES (
                new_seq, p_at, p_client_id, p_roles, p_purpose, p_case_id, p_operation, p_document_hash,
                p_subjects, p_revealed, p_masked, p_withheld, p_outcome, p_detail, p_policy_version,
                last_hash,
                encode(sha256(convert_to(new_seq::text || ':' || last_hash || ':' || p_digest, 'UTF8')), 'hex')
            );
            INSERT INTO audit_subject (subject, seq) SELECT json_array_elements_text(p_subjects), new_seq;
            RETURN new_seq;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION audit_append")
