"""webhook notifications: subscriptions, eligibility snapshots, deliveries and their attempts

Change notifications for the student-aid system (notify/): a subscription per client and URL, the last
eligible set per subscription and term, one delivery row per event (pending until delivered or given up,
so a restart loses nothing) and one row per attempt (the delivery log).

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

_SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_dispatch_lease",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
        comment="SQLite only: the one dispatcher allowed to send (PostgreSQL locks rows instead)",
    )
    op.create_table(
        "webhook_subscription",
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column(
            "secret",
            sa.String(length=200),
            nullable=False,
            comment="HMAC key the hub signs with, kept as such (it must sign); never logged or listed",
        ),
        sa.Column("terms", sa.JSON(), nullable=False, comment="terms (YYYY-YYYY-1|2) the subscription follows"),
        sa.Column("regions", sa.JSON(), nullable=True, comment="division-code prefixes within the client's; null: all"),
        sa.Column("announce_existing", sa.Boolean(), nullable=False, comment="first detection: every eligible is new"),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_client.client_id"]),
        sa.PrimaryKeyConstraint("subscription_id"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("delivery_id", _SEQUENCE, autoincrement=True, nullable=False, comment="order of sending"),
        sa.Column("event_id", sa.String(length=40), nullable=False, comment="idempotency key for the receiver"),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("term", sa.String(length=11), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False, comment="the event's student and reasons, as sent"),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False, comment="pending, delivered or failed"),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "requeued_after", sa.Integer(), server_default="0", nullable=False, comment="attempts before a requeue"
        ),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True, comment="when delivered or given up"),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("disclosure", sa.JSON(), nullable=False, comment="fields revealed, masked, withheld; policy version"),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True, comment="the audit event written before the first send"),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscription.subscription_id"]),
        sa.PrimaryKeyConstraint("delivery_id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_delivery_queue", ["subscription_id", "status", "delivery_id"], unique=False)
    op.create_table(
        "webhook_detection",
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("term", sa.String(length=11), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, comment="the snapshot generation that is current"),
        sa.Column("eligible", sa.Integer(), nullable=False, comment="students in the current snapshot"),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscription.subscription_id"]),
        sa.PrimaryKeyConstraint("subscription_id", "term"),
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("delivery_id", _SEQUENCE, autoincrement=False, nullable=False),
        sa.Column("attempt", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True, comment="null when no answer came"),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False, comment="delivered, retry or failed"),
        sa.ForeignKeyConstraint(["delivery_id"], ["webhook_delivery.delivery_id"]),
        sa.PrimaryKeyConstraint("delivery_id", "attempt"),
    )
    op.create_table(
        "webhook_snapshot",
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("term", sa.String(length=11), nullable=False),
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False, comment="reason codes at the time"),
        sa.ForeignKeyConstraint(
            ["subscription_id", "term"], ["webhook_detection.subscription_id", "webhook_detection.term"]
        ),
        sa.PrimaryKeyConstraint("subscription_id", "term", "generation", "id_number"),
    )


def downgrade() -> None:
    op.drop_table("webhook_snapshot")
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_detection")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_delivery_queue")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
    op.drop_table("webhook_dispatch_lease")
