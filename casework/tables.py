"""The hub's own tables for casework: comparison runs and their items, alerts, and one history of every change.

Declared on the store's one `metadata`, so the Alembic migrations and the migration test cover them.
Times are stored in UTC (SQLite keeps them naive; `webhooks.clock.utc` reads them back). An item and an
alert each carry a `version`, raised by every change, for optimistic concurrency (casework.changes).
"""

from __future__ import annotations

import sqlalchemy as sa

from adapters.base import metadata

_TIME = sa.DateTime(timezone=True)
_KEY = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

comparison_run = sa.Table(
    "comparison_run",
    metadata,
    sa.Column("id", _KEY, primary_key=True, autoincrement=True),
    sa.Column("region", sa.String(12), nullable=False, comment="division-code prefix the run covers"),
    sa.Column("term", sa.String(11), nullable=True, comment="school term of the student rule (C3)"),
    sa.Column("as_of", sa.Date, nullable=False, comment="the day whose snapshots the rules read"),
    sa.Column("started_at", _TIME, nullable=False),
    sa.Column("finished_at", _TIME, nullable=True),
    sa.Column("started_by", sa.String(100), nullable=False),
    sa.Column("rules_version", sa.String(40), nullable=False),
    sa.Column("thresholds", sa.JSON, nullable=False, comment="the rules' parameters as the run used them"),
    sa.Column("inputs", sa.JSON, nullable=False, comment="per department: its ingest run and as-of, or read live"),
    sa.Column("counts", sa.JSON, nullable=False, comment="per rule code: items found, or null when not evaluated"),
    sa.Index("ix_comparison_run_region", "region", "id"),
)

comparison_item = sa.Table(
    "comparison_item",
    metadata,
    sa.Column("id", _KEY, primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(4), nullable=False, comment="C1 … C8"),
    sa.Column("subject", sa.String(20), nullable=False, comment="household number, or id number for a person rule"),
    sa.Column("programme", sa.String(40), nullable=False, comment="the programme the subject lacks"),
    sa.Column("household_number", sa.String(20), nullable=False),
    sa.Column("id_number", sa.String(18), nullable=True, comment="null for a household rule"),
    sa.Column("region_code", sa.String(12), nullable=False, comment="the household's division, for region rules"),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False, comment="[{department, table, recordKey, values}] as last found"),
    sa.Column("fingerprint", sa.String(64), nullable=False, comment="SHA-256 of the evidence as last found"),
    sa.Column("decided_fingerprint", sa.String(64), nullable=True, comment="evidence a suppressing decision saw"),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("assignee", sa.String(100), nullable=True),
    sa.Column("covered_by", sa.String(40), nullable=True, comment="COVERED: the programme that now covers"),
    sa.Column("covered_on", sa.Date, nullable=True, comment="COVERED: since when"),
    sa.Column("first_run", _KEY, sa.ForeignKey("comparison_run.id"), nullable=False),
    sa.Column("last_run", _KEY, sa.ForeignKey("comparison_run.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.UniqueConstraint("rule", "subject", "programme", name="uq_comparison_item_key"),
    sa.Index("ix_comparison_item_region", "region_code", "rule", "status"),
)

comparison_run_item = sa.Table(
    "comparison_run_item",
    metadata,
    sa.Column("run_id", _KEY, sa.ForeignKey("comparison_run.id"), primary_key=True),
    sa.Column("item_id", _KEY, sa.ForeignKey("comparison_item.id"), primary_key=True),
    comment="every item a run found, including those an earlier run created first",
)

alert = sa.Table(
    "alert",
    metadata,
    sa.Column("id", _KEY, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(30), nullable=False, comment="MEDICAL_COSTS, SEVERE_DISABILITY, …"),
    sa.Column("household_number", sa.String(20), nullable=False),
    sa.Column("region_code", sa.String(12), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("level", sa.String(10), nullable=False, comment="township, or county once escalated"),
    sa.Column("emergency", sa.Boolean, nullable=False, comment="a temporary-assistance emergency: 12-hour answer"),
    sa.Column("evidence", sa.JSON, nullable=False, comment="[{department, table, recordKey, values}]"),
    sa.Column("raised_at", _TIME, nullable=False),
    sa.Column("due_at", _TIME, nullable=False, comment="acknowledgement due"),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("rules_version", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Index("ix_alert_region", "region_code", "status", "kind"),
    sa.Index("ix_alert_household", "household_number", "kind", "status"),
)

alert_evidence = sa.Table(
    "alert_evidence",
    metadata,
    sa.Column("kind", sa.String(30), primary_key=True),
    sa.Column("household_number", sa.String(20), primary_key=True),
    sa.Column("evidence_key", sa.String(300), primary_key=True, comment="department/table/record key"),
    sa.Column("alert_id", _KEY, sa.ForeignKey("alert.id"), nullable=False),
    comment="evidence already raised: the same (kind, household, evidence) is never raised twice",
)

casework_history = sa.Table(
    "casework_history",
    metadata,
    sa.Column("id", _KEY, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(10), nullable=False, comment="item or alert"),
    sa.Column("subject_id", _KEY, nullable=False),
    sa.Column("at", _TIME, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False, comment="who: a caseworker, a client system, or the hub"),
    sa.Column("from_status", sa.String(20), nullable=True, comment="null when created"),
    sa.Column("to_status", sa.String(20), nullable=False),
    sa.Column("reason_code", sa.String(40), nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, comment="the version this change made"),
    sa.Index("ix_casework_history_subject", "subject", "subject_id", "id"),
)
