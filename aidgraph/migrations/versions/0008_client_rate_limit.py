"""clients: a request rate limit of their own

- `oauth_client.rate_limit` (new, nullable): /graphql and export requests per minute the client may make
  (per worker); null means the hub's default (`AIDGRAPH_CLIENT_RATE_LIMIT`), 0 no limit. Every client
  registered before this migration keeps the default.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COMMENT = "requests per minute (per worker); null: the hub's default, 0: unlimited"


def upgrade() -> None:
    with op.batch_alter_table("oauth_client") as table:
        table.add_column(sa.Column("rate_limit", sa.Integer(), nullable=True, comment=COMMENT))


def downgrade() -> None:
    with op.batch_alter_table("oauth_client") as table:
        table.drop_column("rate_limit")
