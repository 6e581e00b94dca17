"""console people: the people who sign in to the console, and their sessions

- `console_user`: a person's console permissions, policy roles and regions, the scrypt hash of their
  password (a one-time one until changed), their TOTP secret and the last time step used.
- `console_session`: a server-side session, keyed by the SHA-256 of its token (the cookie holds the
  token; the store never does), its sign-in stage, CSRF token, and when it was last seen or ended.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_user",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "permissions", sa.JSON(), nullable=False, comment="console permissions: user-admin, policy-author, ..."
        ),
        sa.Column("roles", sa.JSON(), nullable=False, comment="policy roles, as a client's"),
        sa.Column("regions", sa.JSON(), nullable=False, comment="list of division-code prefixes"),
        sa.Column(
            "password_hash", sa.String(length=300), nullable=False, comment="scrypt hash; the password is never kept"
        ),
        sa.Column("must_change_password", sa.Boolean(), nullable=False, comment="a one-time password: change it first"),
        sa.Column(
            "totp_secret", sa.String(length=64), nullable=True, comment="base32 TOTP secret; null: none enrolled"
        ),
        sa.Column(
            "totp_last_step", sa.BigInteger(), nullable=True, comment="the last TOTP time step used: replay guard"
        ),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "console_session",
        sa.Column(
            "id_hash", sa.String(length=64), nullable=False, comment="sha256 hex of the session token, never the token"
        ),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column(
            "stage", sa.String(length=20), nullable=False, comment="change-password, enrol-totp, totp or signed-in"
        ),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "ended_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="signed out, disabled or reset; null while it lasts",
        ),
        sa.ForeignKeyConstraint(["user_name"], ["console_user.name"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_console_session_user", "console_session", ["user_name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_console_session_user", table_name="console_session")
    op.drop_table("console_session")
    op.drop_table("console_user")
