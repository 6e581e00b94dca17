"""access control: clients, keys, revocations, policies, audit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:24:44.508099
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_event",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=True, comment="null when the caller was not identified"),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=True),
        sa.Column("case_id", sa.String(length=100), nullable=True),
        sa.Column("operation", sa.String(length=200), nullable=True),
        sa.Column("document_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "subjects", sa.JSON(), nullable=False, comment="pseudonyms (hub audit key) of the residents returned"
        ),
        sa.Column("revealed", sa.JSON(), nullable=False, comment="Type.field revealed unmasked"),
        sa.Column("masked", sa.JSON(), nullable=False, comment="Type.field masked"),
        sa.Column("withheld", sa.JSON(), nullable=False, comment="Type.field withheld"),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "audit_subject",
        sa.Column(
            "subject", sa.String(length=80), nullable=False, comment="pseudonym (hub audit key) of a resident id"
        ),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("subject", "seq"),
    )
    op.create_table(
        "hub_secret",
        sa.Column("name", sa.String(length=60), nullable=False, comment="e.g. signing-keys, audit-pseudonym-key"),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False, comment="list of role names"),
        sa.Column("regions", sa.JSON(), nullable=False, comment="list of division-code prefixes"),
        sa.Column("purposes", sa.JSON(), nullable=False, comment="list of purpose codes the client may declare"),
        sa.Column(
            "secret_hash", sa.String(length=300), nullable=False, comment="scrypt hash; the secret itself is never kept"
        ),
        sa.Column(
            "pseudonym_key", sa.String(length=64), nullable=False, comment="hex key of the client's HMAC pseudonyms"
        ),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id"),
    )
    op.create_table(
        "policy_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False, comment="the policy as applied (YAML)"),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("applied_by", sa.String(length=100), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column(
            "expires_at", sa.DateTime(timezone=True), nullable=False, comment="after this the entry can be dropped"
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )


def downgrade() -> None:

    op.drop_table("revoked_token")
    op.drop_table("policy_version")
    op.drop_table("oauth_client")
    op.drop_table("hub_secret")
    op.drop_table("audit_subject")
    op.drop_table("audit_event")
