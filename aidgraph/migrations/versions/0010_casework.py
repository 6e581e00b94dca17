"""casework: comparison runs and their items, early-warning alerts, and the history of every change

- `comparison_run`: one cross-department comparison (region, term, as-of day, who started it, the
  rules' version and thresholds, the ingest run each department's data came from, counts per rule).
- `comparison_item`: one finding of the ledger, keyed by (rule, subject, programme), with its evidence,
  the evidence's fingerprint, its status and what caseworkers recorded; `comparison_run_item` links
  every run to every item it found.
- `alert` and `alert_evidence`: early-warning alerts and the evidence each has been raised for.
- `casework_history`: who changed an item or an alert, when, from which status to which.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False, comment="MEDICAL_COSTS, SEVERE_DISABILITY, …"),
        sa.Column("household_number", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False, comment="township, or county once escalated"),
        sa.Column(
            "emergency", sa.Boolean(), nullable=False, comment="a temporary-assistance emergency: 12-hour answer"
        ),
        sa.Column("evidence", sa.JSON(), nullable=False, comment="[{department, table, recordKey, values}]"),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, comment="acknowledgement due"),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_household", "alert", ["household_number", "kind", "status"], unique=False)
    op.create_index("ix_alert_region", "alert", ["region_code", "status", "kind"], unique=False)
    op.create_table(
        "casework_history",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=10), nullable=False, comment="item or alert"),
        sa.Column("subject_id", _KEY, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "actor", sa.String(length=100), nullable=False, comment="who: a caseworker, a client system, or the hub"
        ),
        sa.Column("from_status", sa.String(length=20), nullable=True, comment="null when created"),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, comment="the version this change made"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_casework_history_subject", "casework_history", ["subject", "subject_id", "id"], unique=False)
    op.create_table(
        "comparison_run",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("region", sa.String(length=12), nullable=False, comment="division-code prefix the run covers"),
        sa.Column("term", sa.String(length=11), nullable=True, comment="school term of the student rule (C3)"),
        sa.Column("as_of", sa.Date(), nullable=False, comment="the day whose snapshots the rules read"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False, comment="the rules' parameters as the run used them"),
        sa.Column(
            "inputs", sa.JSON(), nullable=False, comment="per department: its ingest run and as-of, or read live"
        ),
        sa.Column(
            "counts", sa.JSON(), nullable=False, comment="per rule code: items found, or null when not evaluated"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_comparison_run_region", "comparison_run", ["region", "id"], unique=False)
    op.create_table(
        "alert_evidence",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("household_number", sa.String(length=20), nullable=False),
        sa.Column("evidence_key", sa.String(length=300), nullable=False, comment="department/table/record key"),
        sa.Column("alert_id", _KEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("kind", "household_number", "evidence_key"),
        comment="evidence already raised: the same (kind, household, evidence) is never raised twice",
    )
    op.create_table(
        "comparison_item",
        sa.Column("id", _KEY, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=4), nullable=False, comment="C1 … C8"),
        sa.Column(
            "subject", sa.String(length=20), nullable=False, comment="household number, or id number for a person rule"
        ),
        sa.Column("programme", sa.String(length=40), nullable=False, comment="the programme the subject lacks"),
        sa.Column("household_number", sa.String(length=20), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True, comment="null for a household rule"),
        sa.Column(
            "region_code", sa.String(length=12), nullable=False, comment="the household's division, for region rules"
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "evidence", sa.JSON(), nullable=False, comment="[{department, table, recordKey, values}] as last found"
        ),
        sa.Column("fingerprint", sa.String(length=64), nullable=False, comment="SHA-256 of the evidence as last found"),
        sa.Column(
            "decided_fingerprint", sa.String(length=64), nullable=True, comment="evidence a suppressing decision saw"
        ),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("covered_by", sa.String(length=40), nullable=True, comment="COVERED: the programme that now covers"),
        sa.Column("covered_on", sa.Date(), nullable=True, comment="COVERED: since when"),
        sa.Column("first_run", _KEY, nullable=False),
        sa.Column("last_run", _KEY, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["first_run"],
            ["comparison_run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["last_run"],
            ["comparison_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule", "subject", "programme", name="uq_comparison_item_key"),
    )
    op.create_index("ix_comparison_item_region", "comparison_item", ["region_code", "rule", "status"], unique=False)
    op.create_table(
        "comparison_run_item",
        sa.Column("run_id", _KEY, nullable=False),
        sa.Column("item_id", _KEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["comparison_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["comparison_run.id"],
        ),
        sa.PrimaryKeyConstraint("run_id", "item_id"),
        comment="every item a run found, including those an earlier run created first",
    )


def downgrade() -> None:
    op.drop_table("comparison_run_item")
    op.drop_index("ix_comparison_item_region", table_name="comparison_item")
    op.drop_table("comparison_item")
    op.drop_table("alert_evidence")
    op.drop_index("ix_comparison_run_region", table_name="comparison_run")
    op.drop_table("comparison_run")
    op.drop_index("ix_casework_history_subject", table_name="casework_history")
    op.drop_table("casework_history")
    op.drop_index("ix_alert_region", table_name="alert")
    op.drop_index("ix_alert_household", table_name="alert")
    op.drop_table("alert")
