"""registered operations (trusted documents), and clients restricted to them

- `registered_operation` (new): one row per registered document (one named operation and the fragments
  it spreads), keyed by `sha256:<hex>` of its text; `client_id` null means every client may use it.
- `oauth_client.registered_only` (new, false for every existing client): the client may send
  registered operations only, by id or as their exact text.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

REGISTERED_ONLY = "true: the client may send registered operations only (registered/)"


def upgrade() -> None:
    op.create_table(
        "registered_operation",
        sa.Column("document_id", sa.String(71), nullable=False, comment="sha256:<hex of the text's UTF-8>"),
        sa.Column("operation_name", sa.String(100), nullable=False, comment="the one operation the document holds"),
        sa.Column("operation_type", sa.String(20), nullable=False, comment="query or mutation"),
        sa.Column("document", sa.Text(), nullable=False, comment="the text the id is the hash of, as served"),
        sa.Column(
            "client_id", sa.String(100), nullable=True, comment="the only client that may use it; null: every client"
        ),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_client.client_id"]),
        sa.PrimaryKeyConstraint("document_id"),
    )
    with op.batch_alter_table("oauth_client") as table:
        table.add_column(
            sa.Column(
                "registered_only", sa.Boolean(), nullable=False, server_default=sa.false(), comment=REGISTERED_ONLY
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_client") as table:
        table.drop_column("registered_only")
    op.drop_table("registered_operation")
