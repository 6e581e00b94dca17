"""webhook events: subscriptions name the event kinds they want; deliveries are no longer only of students

- `webhook_subscription.events`: the kinds a subscription receives. Every existing subscription was made
  for the student events, and keeps them.
- `webhook_delivery.subject` (was `id_number`): whom an event is about, a person's id or a household
  number (an alert is about a household), named in the audit event written before it is sent.
- `webhook_delivery.term`: a student event's term; other kinds have none.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_STUDENT_EVENTS = '["student.eligible", "student.no_longer_eligible"]'


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.add_column(
            sa.Column("events", sa.JSON(), nullable=True, comment="the event kinds it receives (webhooks.kinds)")
        )
    subscription = sa.table("webhook_subscription", sa.column("events", sa.JSON()))
    op.execute(subscription.update().values(events=sa.text(_cast_json())))
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.alter_column(
            "events",
            existing_type=sa.JSON(),
            nullable=False,
            existing_comment="the event kinds it receives (webhooks.kinds)",
        )
    with op.batch_alter_table("webhook_delivery") as batch:
        batch.alter_column(
            "id_number",
            new_column_name="subject",
            existing_type=sa.String(length=18),
            type_=sa.String(length=20),
            existing_nullable=False,
            comment="whom it is about: an id or household number",
        )
        batch.alter_column(
            "term",
            existing_type=sa.String(length=11),
            nullable=True,
            comment="a student event's term; null for other kinds",
        )
        batch.alter_column(
            "data",
            existing_type=sa.JSON(),
            existing_nullable=False,
            comment="the event's data beside the envelope, as sent",
            existing_comment="the event's student and reasons, as sent",
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery") as batch:
        batch.alter_column(
            "data",
            existing_type=sa.JSON(),
            existing_nullable=False,
            comment="the event's student and reasons, as sent",
        )
        batch.alter_column("term", existing_type=sa.String(length=11), nullable=False, comment=None)
        batch.alter_column(
            "subject",
            new_column_name="id_number",
            existing_type=sa.String(length=20),
            type_=sa.String(length=18),
            existing_nullable=False,
            comment=None,
        )
    with op.batch_alter_table("webhook_subscription") as batch:
        batch.drop_column("events")


def _cast_json() -> str:
    # A JSON literal: PostgreSQL's json needs the cast, SQLite keeps JSON as text.
    if op.get_bind().dialect.name == "postgresql":
        return f"CAST('{_STUDENT_EVENTS}' AS JSON)"
    return f"'{_STUDENT_EVENTS}'"
