"""policy drafts: a version is a draft until a second person approves it (four eyes)

- `policy_version.status`: `draft`, `approved` or `withdrawn`. The live version is the newest approved
  one. Every version stored before this migration went live when it was applied, so each is `approved`,
  by the person who applied it, at that time.
- `policy_version.based_on`: the live version when the draft was made; a draft is approved only while
  that version is still live.
- `policy_version.reason`, `approved_by`, `approved_at`, `withdrawn_by`, `withdrawn_at`: why it was
  made, and who published or withdrew it, when.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

STATUS_COMMENT = "draft, approved or withdrawn; the live version is the newest approved one"
BASED_ON_COMMENT = "the live version when the draft was made (null: none was live); approved only while it is"
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("policy_version") as batch:
        batch.add_column(sa.Column("status", sa.String(length=10), nullable=True, comment=STATUS_COMMENT))
        batch.add_column(sa.Column("based_on", sa.Integer(), nullable=True, comment=BASED_ON_COMMENT))
        batch.add_column(
            sa.Column("reason", sa.String(length=500), nullable=True, comment="why it was made, in the author's words")
        )
        batch.add_column(
            sa.Column(
                "approved_by",
                sa.String(length=100),
                nullable=True,
                comment="who published it (four eyes: not the author)",
            )
        )
        batch.add_column(sa.Column("approved_at", _TIME, nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("withdrawn_at", _TIME, nullable=True))
        batch.alter_column(
            "applied_by", existing_type=sa.String(length=100), existing_nullable=False,
            comment="who wrote it: the draft's author",
        )  # fmt: skip
        batch.alter_column(
            "applied_at", existing_type=_TIME, existing_nullable=False,
            comment="when it was stored (as a draft, or approved at once)",
        )  # fmt: skip
    version = sa.table(
        "policy_version",
        sa.column("version", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("based_on", sa.Integer()),
        sa.column("applied_by", sa.String()),
        sa.column("applied_at", _TIME),
        sa.column("approved_by", sa.String()),
        sa.column("approved_at", _TIME),
    )
    # Each version went live when applied, replacing the one before it.
    op.execute(
        version.update().values(
            status="approved",
            based_on=sa.case((version.c.version > 1, version.c.version - 1), else_=None),
            approved_by=version.c.applied_by,
            approved_at=version.c.applied_at,
        )
    )
    with op.batch_alter_table("policy_version") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(length=10), nullable=False, existing_comment=STATUS_COMMENT
        )


def downgrade() -> None:
    # Drafts and withdrawn versions never went live: without a status they would read as live ones.
    op.execute(sa.text("DELETE FROM policy_version WHERE status <> 'approved'"))
    with op.batch_alter_table("policy_version") as batch:
        for column in ("withdrawn_at", "withdrawn_by", "approved_at", "approved_by", "reason", "based_on", "status"):
            batch.drop_column(column)
        batch.alter_column("applied_by", existing_type=sa.String(length=100), existing_nullable=False, comment=None)
        batch.alter_column("applied_at", existing_type=_TIME, existing_nullable=False, comment=None)
