"""Shared set-up of the notification tests: the student-aid client, a subscription, queued deliveries."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import sqlalchemy as sa

from auth.clients import register_client
from resolvers.students.payloads import ELIGIBLE
from tests.world import make_id
from webhooks.delivery import DeliveryReport, RetryPolicy, deliver_due
from webhooks.subscriptions import subscribe
from webhooks.tables import webhook_delivery

CLIENT = "student-aid-system"
TERM = "2026-2027-1"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SECRET = "whsec_" + "s" * 40


def register_student_aid(engine: sa.Engine, client_id: str = CLIENT, regions: list[str] | None = None) -> None:
    register_client(
        engine,
        client_id=client_id,
        department="education",
        roles=["student-aid"],
        regions=regions or ["3505"],
        purposes=["student-aid"],
    )


def subscription(engine: sa.Engine, url: str, *, client_id: str = CLIENT, **options: Any) -> str:
    made, _ = subscribe(engine, client_id=client_id, url=url, terms=[TERM], secret=SECRET, **options)
    return made.subscription_id


def enqueue(engine: sa.Engine, subscription_id: str, count: int, *, at: datetime = T0) -> list[str]:
    """Queue `count` eligible events as change detection would; their event ids in queue order."""
    rows = []
    for number in range(count):
        id_number = make_id("350583", "20120606", number % 100, male=number % 2 == 0)
        rows.append(
            {
                "event_id": "evt_" + secrets.token_hex(16),
                "subscription_id": subscription_id,
                "event_type": ELIGIBLE,
                "term": TERM,
                "subject": id_number,
                "data": {"student": {"id_number": id_number}, "reasons": [{"code": "DIBAO"}], "aid_granted": False},
                "disclosure": {"revealed": ["Person.idNumber"], "masked": [], "withheld": [], "policy_version": None},
                "occurred_at": at,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
            }
        )
    with engine.begin() as connection:
        connection.execute(webhook_delivery.insert(), rows)
    return [row["event_id"] for row in rows]


@contextmanager
def http() -> Iterator[httpx2.Client]:
    # trust_env off: a proxy from the environment must not stand between the hub and 127.0.0.1
    with httpx2.Client(timeout=httpx2.Timeout(2.0), trust_env=False) as client:
        yield client


def drain(
    engine: sa.Engine,
    client: httpx2.Client,
    *,
    start: datetime = T0,
    step: timedelta = timedelta(hours=2),
    **options: Any,
) -> list[DeliveryReport]:
    """Pass after pass, the clock moved on `step` each time, until a pass finds nothing to do."""
    reports = []
    now = start
    for _ in range(50):
        report = deliver_due(engine, http=client, now=now, draw=lambda: 0.0, **options)
        if not report.attempted:
            return reports
        reports.append(report)
        now += step
    raise AssertionError("deliveries still due after 50 passes")


def statuses(engine: sa.Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(webhook_delivery.c.event_id, webhook_delivery.c.status, webhook_delivery.c.attempts).order_by(
                webhook_delivery.c.delivery_id
            )
        )
        return [(row.event_id, row.status, row.attempts) for row in rows]


FAST = RetryPolicy(first=timedelta(seconds=10), cap=timedelta(minutes=1), max_attempts=5)
