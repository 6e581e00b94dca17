"""The console's people and their sessions, declared on the store's one `metadata` (migration 0012)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters.base import metadata

_TIME = sa.DateTime(timezone=True)

console_user = sa.Table(
    "console_user",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("permissions", sa.JSON, nullable=False, comment="console permissions: user-admin, policy-author, ..."),
    sa.Column("roles", sa.JSON, nullable=False, comment="policy roles, as a client's"),
    sa.Column("regions", sa.JSON, nullable=False, comment="list of division-code prefixes"),
    sa.Column("password_hash", sa.String(300), nullable=False, comment="scrypt hash; the password is never kept"),
    sa.Column("must_change_password", sa.Boolean, nullable=False, comment="a one-time password: change it first"),
    sa.Column("totp_secret", sa.String(64), nullable=True, comment="base32 TOTP secret; null: none enrolled"),
    sa.Column("totp_last_step", sa.BigInteger, nullable=True, comment="the last TOTP time step used: replay guard"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
)

console_session = sa.Table(
    "console_session",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True, comment="sha256 hex of the session token, never the token"),
    sa.Column("user_name", sa.String(100), sa.ForeignKey("console_user.name"), nullable=False),
    sa.Column("stage", sa.String(20), nullable=False, comment="change-password, enrol-totp, totp or signed-in"),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("last_seen_at", _TIME, nullable=False),
    sa.Column("ended_at", _TIME, nullable=True, comment="signed out, disabled or reset; null while it lasts"),
    sa.Index("ix_console_session_user", "user_name"),
)
