"""The hub's own tables for change notifications: subscriptions, snapshots, deliveries and their attempts.

Declared on the store's one `metadata`, so the Alembic migrations and the migration test cover them.
Times are stored in UTC (SQLite keeps them naive; `webhooks.clock.utc` reads them back).
"""

from __future__ import annotations

import sqlalchemy as sa

import auth.tables  # noqa: F401  (oauth_client, which subscriptions refer to, is declared there)
from adapters.base import metadata

_TIME = sa.DateTime(timezone=True)
_SEQUENCE = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

webhook_subscription = sa.Table(
    "webhook_subscription",
    metadata,
    sa.Column("subscription_id", sa.String(40), primary_key=True),
    sa.Column("client_id", sa.String(100), sa.ForeignKey("oauth_client.client_id"), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column(
        "secret",
        sa.String(200),
        nullable=False,
        comment="HMAC key the hub signs with, kept as such (it must sign); never logged or listed",
    ),
    sa.Column("events", sa.JSON, nullable=False, comment="the event kinds it receives (webhooks.kinds)"),
    sa.Column("terms", sa.JSON, nullable=False, comment="terms (YYYY-YYYY-1|2) the subscription follows"),
    sa.Column("regions", sa.JSON, nullable=True, comment="division-code prefixes within the client's; null: all"),
    sa.Column("announce_existing", sa.Boolean, nullable=False, comment="first detection: every eligible is new"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", _TIME, nullable=False),
)

webhook_detection = sa.Table(
    "webhook_detection",
    metadata,
    sa.Column(
        "subscription_id", sa.String(40), sa.ForeignKey(webhook_subscription.c.subscription_id), primary_key=True
    ),
    sa.Column("term", sa.String(11), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False, comment="the snapshot generation that is current"),
    sa.Column("eligible", sa.Integer, nullable=False, comment="students in the current snapshot"),
    sa.Column("detected_at", _TIME, nullable=False),
)

webhook_snapshot = sa.Table(
    "webhook_snapshot",
    metadata,
    sa.Column("subscription_id", sa.String(40), primary_key=True),
    sa.Column("term", sa.String(11), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("id_number", sa.String(18), primary_key=True),
    sa.Column("reasons", sa.JSON, nullable=False, comment="reason codes at the time"),
    sa.ForeignKeyConstraint(
        ["subscription_id", "term"], [webhook_detection.c.subscription_id, webhook_detection.c.term]
    ),
)

webhook_delivery = sa.Table(
    "webhook_delivery",
    metadata,
    sa.Column("delivery_id", _SEQUENCE, primary_key=True, autoincrement=True, comment="order of sending"),
    sa.Column("event_id", sa.String(40), nullable=False, unique=True, comment="idempotency key for the receiver"),
    sa.Column("subscription_id", sa.String(40), sa.ForeignKey(webhook_subscription.c.subscription_id), nullable=False),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("term", sa.String(11), nullable=True, comment="a student event's term; null for other kinds"),
    sa.Column("subject", sa.String(20), nullable=False, comment="whom it is about: an id or household number"),
    sa.Column("data", sa.JSON, nullable=False, comment="the event's data beside the envelope, as sent"),
    sa.Column("occurred_at", _TIME, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, comment="pending, delivered or failed"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("requeued_after", sa.Integer, nullable=False, server_default="0", comment="attempts before a requeue"),
    sa.Column("next_attempt_at", _TIME, nullable=False),
    sa.Column("finished_at", _TIME, nullable=True, comment="when delivered or given up"),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("disclosure", sa.JSON, nullable=False, comment="fields revealed, masked, withheld; policy version"),
    sa.Column("audit_seq", sa.BigInteger, nullable=True, comment="the audit event written before the first send"),
    sa.Index("ix_webhook_delivery_queue", "subscription_id", "status", "delivery_id"),
)

webhook_attempt = sa.Table(
    "webhook_attempt",
    metadata,
    sa.Column(
        "delivery_id", _SEQUENCE, sa.ForeignKey(webhook_delivery.c.delivery_id), primary_key=True, autoincrement=False
    ),
    sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("attempted_at", _TIME, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True, comment="null when no answer came"),
    sa.Column("error", sa.String(300), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(10), nullable=False, comment="delivered, retry or failed"),
)

webhook_dispatch_lease = sa.Table(
    "webhook_dispatch_lease",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=True),
    sa.Column("expires_at", _TIME, nullable=True),
    comment="SQLite only: the one dispatcher allowed to send (PostgreSQL locks rows instead)",
)
