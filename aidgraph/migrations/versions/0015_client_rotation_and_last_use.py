"""clients: a secret's rotation ends the tokens issued before it; a client's last use read from the trail

- `oauth_client.secret_rotated_at` (new, nullable): when `aidgraph clients rotate` last replaced the
  client's secret; the hub refuses the client's tokens issued before it. Null for a secret never rotated.
- `ix_audit_event_client_id_seq` (new): a client's newest event (its last use, `auth.clients.last_used`)
  and a search of the trail by client read the index, not the whole trail. Built in the migration's own
  transaction: on a long trail it holds the audit writer back while it is built, so migrate with the hub
  stopped, as for every migration.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"  # after the people branch's 0012 where both are merged (the lead re-chains)
branch_labels = None
depends_on = None

COMMENT = "when the secret was last replaced; tokens issued before it are refused"


def upgrade() -> None:
    with op.batch_alter_table("oauth_client") as table:
        table.add_column(sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True, comment=COMMENT))
    op.create_index("ix_audit_event_client_id_seq", "audit_event", ["client_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_client_id_seq", table_name="audit_event")
    with op.batch_alter_table("oauth_client") as table:
        table.drop_column("secret_rotated_at")
