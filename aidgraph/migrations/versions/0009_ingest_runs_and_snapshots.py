"""ingest runs and dated snapshots: every import recorded, closed records kept in history

- `ingest_run` (one row per committed import of a department's export: its as-of time, full or
  incremental, started and finished) and `ingest_run_file` (each file of a run with its SHA-256 and
  its rows read, accepted, rejected, changed and closed).
- Every department table gains `valid_from` (the as-of of the export in which the current version
  first appeared; filled from `as_of` for rows already there) and `ingest_run` (the run that last saw
  the record; null for rows imported before this revision).
- Every department table gets `<table>_history`: the versions no longer current, each with its
  `valid_to` and the run that closed it. Built by reflecting the table as it stands, so the history
  has exactly its columns whatever earlier revisions did to them.

Downgrading drops the history, the runs and the new columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DEPARTMENT_TABLES = (
    "civil_affairs_child_welfare",
    "civil_affairs_dibao",
    "civil_affairs_dibao_standard",
    "civil_affairs_economic_check",
    "civil_affairs_extreme_poverty",
    "civil_affairs_temporary_assistance",
    "disability_certificate",
    "disability_subsidy",
    "education_enrolment",
    "education_student_aid",
    "housing_assessment",
    "housing_renovation",
    "housing_support",
    "medical_insurance",
    "medical_settlement",
    "poverty_monitored",
    "poverty_registered",
    "registry_household",
    "registry_person",
)


def upgrade() -> None:
    op.create_table(
        "ingest_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("incremental", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ingest_run_department", "ingest_run", ["department", "as_of"], unique=False)
    op.create_table(
        "ingest_run_file",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_changed", sa.Integer(), nullable=False),
        sa.Column("rows_closed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["ingest_run.id"]),
        sa.PrimaryKeyConstraint("run_id", "file"),
    )
    bind = op.get_bind()
    for name in DEPARTMENT_TABLES:
        with op.batch_alter_table(name) as batch_op:
            batch_op.add_column(sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("ingest_run", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {name} SET valid_from = as_of")
        with op.batch_alter_table(name) as batch_op:
            batch_op.alter_column("valid_from", existing_type=sa.DateTime(timezone=True), nullable=False)
        current = sa.Table(name, sa.MetaData(), autoload_with=bind)
        history = f"{name}_history"
        op.create_table(
            history,
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            *(
                sa.Column(column.name, column.type, nullable=column.nullable)
                for column in current.columns
                if column.name != "record_key"
            ),
            sa.Column("record_key", sa.String(length=200), nullable=False),
            sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
            sa.Column("closed_by", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{history}_record_key", history, ["record_key"], unique=False)


def downgrade() -> None:
    for name in DEPARTMENT_TABLES:
        op.drop_table(f"{name}_history")
        with op.batch_alter_table(name) as batch_op:
            batch_op.drop_column("ingest_run")
            batch_op.drop_column("valid_from")
    op.drop_table("ingest_run_file")
    op.drop_index("ix_ingest_run_department", table_name="ingest_run")
    op.drop_table("ingest_run")
