"""Sending due deliveries: signed POSTs, in order per subscription, retried with backoff, each attempt logged.

A delivery is a row (`webhook_delivery`) from the moment change detection commits it, so a hub that
stops, crashes or restarts loses nothing: the next `deliver_due` finds what is still pending. It is
at least once: a hub that dies after the receiver answered but before the answer was stored sends that
delivery again, with the same event id, which the receiver uses to drop the repeat.

Order. Per subscription, deliveries go out one at a time in `delivery_id` order, and a delivery waiting
for its retry holds back the ones behind it; one that is given up (`failed`) no longer does.

Outcomes. A 2xx answer delivers. No answer (refused, dropped, timed out), 408, 429 or 5xx is retried
after `RetryPolicy.delay` (exponential, with jitter; a longer `Retry-After` is honoured up to the cap),
until `max_attempts`; then, or at once for any other answer (a 4xx says the request itself is wrong),
the delivery is `failed` and stays in the log.

Several dispatchers on one store. PostgreSQL: a dispatcher sends a subscription's next delivery inside a
transaction holding that subscription's row (`SELECT … FOR NO KEY UPDATE SKIP LOCKED`): another one
skips the subscription meanwhile, and a dispatcher that dies releases it with its connection. SQLite
(one machine): one dispatcher at a time holds a lease row (`webhook_dispatch_lease`), renewed before
each send; the others find it busy and wait for their next poll.

Audit. Before a delivery's first attempt the hub appends an audit event naming its subject, the client
and the fields disclosed (DESIGN §3); if that cannot be written nothing is sent.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx2
import sqlalchemy as sa

from auth.audit import AuditLog, Caller, DisclosedFields, audit_event
from auth.tables import oauth_client
from webhooks.clock import utc
from webhooks.kinds import event_kind, may_receive
from webhooks.payloads import render
from webhooks.signing import signed_headers
from webhooks.tables import webhook_attempt, webhook_delivery, webhook_dispatch_lease, webhook_subscription

log = logging.getLogger("aidgraph.notify")

PENDING: Final = "pending"
DELIVERED: Final = "delivered"
FAILED: Final = "failed"
RETRY: Final = "retry"
LEASE_NAME: Final = "dispatcher"
TIMEOUT: Final = httpx2.Timeout(10.0, connect=3.0)
_RETRIED_STATUSES: Final = frozenset({408, 429})
_ERROR_LENGTH: Final = 300


@dataclass(frozen=True)
class RetryPolicy:
    """Waits between attempts: `first`, then times `factor` each time, at most `cap`, plus up to
    `jitter` of itself at random (so receivers coming back up are not hit by every hub at once)."""

    first: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.1
    max_attempts: int = 30  # 10 s, 20 s, … 1 h, 1 h, …: about 22 hours before a delivery is given up

    def delay(self, attempt: int, *, draw: float = 0.0) -> timedelta:
        """The wait after failed attempt number `attempt` (1, 2, …); `draw` in [0, 1) picks the jitter."""
        exponent = min(max(attempt - 1, 0), 64)
        base = min(self.cap.total_seconds(), self.first.total_seconds() * self.factor**exponent)
        return timedelta(seconds=base * (1 + self.jitter * draw))


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    busy: bool = False  # SQLite: another dispatcher holds the lease
    event_ids: list[str] = field(default_factory=list)  # attempted, in order

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed

    def add(self, outcome: str, event_id: str) -> None:
        self.event_ids.append(event_id)
        if outcome == DELIVERED:
            self.delivered += 1
        elif outcome == RETRY:
            self.retrying += 1
        else:
            self.failed += 1


def http_client() -> httpx2.Client:
    """The client a running hub sends with: short timeouts, no redirects followed."""
    return httpx2.Client(timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": "aidgraph-webhooks"})


def deliver_due(
    engine: sa.Engine,
    *,
    http: httpx2.Client,
    now: datetime | None = None,
    policy: RetryPolicy | None = None,
    limit: int = 500,
    worker: str | None = None,
    lease: timedelta = timedelta(seconds=60),
    stop: threading.Event | None = None,
    draw: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Send what is due, each delivery at most once per call and at most `limit` in all.

    `now` fixes the time the schedule is judged by (tests); by default the clock's. Signatures are
    always timestamped by the real clock, which the receiver checks against its own.
    """
    clock: Callable[[], datetime] = (lambda: utc(now)) if now is not None else (lambda: datetime.now(UTC))
    sender = _Sender(engine, http, policy or RetryPolicy(), clock, draw)
    worker = worker or secrets.token_hex(8)
    exclusive = engine.dialect.name != "postgresql"
    report = DeliveryReport()
    if exclusive and not _take_lease(engine, worker=worker, now=clock(), lease=lease):
        report.busy = True
        return report
    try:
        while report.attempted < limit and not (stop is not None and stop.is_set()):
            progressed = False
            for subscription_id in _due_subscriptions(engine, clock()):
                while report.attempted < limit and not (stop is not None and stop.is_set()):
                    if exclusive and not _take_lease(engine, worker=worker, now=clock(), lease=lease):
                        report.busy = True
                        return report
                    done = sender.next_of(subscription_id, exclusive=exclusive)
                    if done is None:
                        break
                    outcome, event_id = done
                    report.add(outcome, event_id)
                    progressed = True
                    if outcome != DELIVERED:
                        break  # the rest of this subscription waits behind its head
            if not progressed:
                break
    finally:
        if exclusive:
            _release_lease(engine, worker=worker)
    return report


class _Sender:
    def __init__(
        self,
        engine: sa.Engine,
        http: httpx2.Client,
        policy: RetryPolicy,
        clock: Callable[[], datetime],
        draw: Callable[[], float],
    ) -> None:
        self._engine = engine
        self._http = http
        self._policy = policy
        self._clock = clock
        self._draw = draw
        self._audit = AuditLog(engine)
        self._attempted: set[int] = set()

    def next_of(self, subscription_id: str, *, exclusive: bool) -> tuple[str, str] | None:
        """Send the subscription's next delivery if it is due; its outcome and event id, or None."""
        with self._engine.begin() as connection:
            if not exclusive and not _lock_subscription(connection, subscription_id):
                return None  # another dispatcher is sending for it
            # On SQLite nothing above or here writes, so no lock is held while the request is out.
            head = connection.execute(_HEAD, {"subscription_id": subscription_id}).mappings().first()
            if head is None or not head["active"] or head["disabled"] or head["delivery_id"] in self._attempted:
                return None
            if not may_receive(head["purposes"], head["event_type"]):
                return None  # the client lost the kind's purpose since the event was queued: it waits, unsent
            if utc(head["next_attempt_at"]) > self._clock():
                return None
            self._attempted.add(head["delivery_id"])
            if head["audit_seq"] is None:
                self._audit_first_send(head)
            attempted_at = self._clock()
            started = time.perf_counter()
            answer = _post(self._http, head)
            duration_ms = round((time.perf_counter() - started) * 1000)
            attempt = head["attempts"] + 1
            outcome, retry_at = self._judge(answer, attempt=attempt - head["requeued_after"], at=attempted_at)
            updated = connection.execute(
                webhook_delivery.update()
                .where(
                    webhook_delivery.c.delivery_id == head["delivery_id"],
                    webhook_delivery.c.status == PENDING,
                    webhook_delivery.c.attempts == head["attempts"],
                )
                .values(
                    status=PENDING if outcome == RETRY else outcome,
                    attempts=attempt,
                    next_attempt_at=retry_at or attempted_at,
                    finished_at=None if outcome == RETRY else attempted_at,
                    last_error=answer.error,
                )
            ).rowcount
            if not updated:  # someone else recorded this attempt: the store's word stands
                log.warning("delivery %s: attempt %d was recorded elsewhere", head["event_id"], attempt)
                return None
            connection.execute(
                webhook_attempt.insert().values(
                    delivery_id=head["delivery_id"],
                    attempt=attempt,
                    attempted_at=attempted_at,
                    status_code=answer.status_code,
                    error=answer.error,
                    duration_ms=duration_ms,
                    outcome=outcome,
                )
            )
        log.info(
            "webhook %s %s to subscription %s: attempt %d, %s (%s)",
            head["event_type"],
            head["event_id"],
            subscription_id,
            attempt,
            outcome,
            answer.status_code if answer.status_code is not None else answer.error,
        )
        return outcome, head["event_id"]

    def _judge(self, answer: _Answer, *, attempt: int, at: datetime) -> tuple[str, datetime | None]:
        code = answer.status_code
        if code is not None and 200 <= code < 300:
            return DELIVERED, None
        retried = not answer.permanent and (code is None or code in _RETRIED_STATUSES or code >= 500)
        if not retried or attempt >= self._policy.max_attempts:
            return FAILED, None
        wait = self._policy.delay(attempt, draw=self._draw())
        if answer.retry_after is not None:
            wait = max(wait, min(timedelta(seconds=answer.retry_after), self._policy.cap))
        return RETRY, at + wait

    def _audit_first_send(self, head: Mapping[Any, Any]) -> None:
        """One audit event per delivery, before anything leaves (AuditUnavailable: nothing is sent)."""
        disclosure = head["disclosure"]  # as change detection stored it with the delivery
        seq = self._audit.append(
            audit_event(
                "webhook",
                caller=Caller(
                    client_id=head["client_id"],
                    roles=list(head["roles"]),
                    purpose=event_kind(head["event_type"]).purpose,
                    policy_version=disclosure.get("policy_version"),
                ),
                actor=None,  # the hub sends on its own, for the subscription
                operation=f"webhook {head['event_type']}",
                document_hash=None,  # no client document: the payload is the event type's own
                subjects=[head["subject"]],
                disclosure=DisclosedFields(
                    revealed=disclosure.get("revealed", []),
                    masked=disclosure.get("masked", []),
                    withheld=disclosure.get("withheld", []),
                ),
                detail=f"event {head['event_id']}, subscription {head['subscription_id']}"
                + (f", term {head['term']}" if head["term"] is not None else ""),
                at=self._clock(),
            )
        )
        with self._engine.begin() as connection:
            connection.execute(
                webhook_delivery.update()
                .where(webhook_delivery.c.delivery_id == head["delivery_id"], webhook_delivery.c.audit_seq.is_(None))
                .values(audit_seq=seq)
            )


@dataclass(frozen=True)
class _Answer:
    status_code: int | None
    error: str | None = None
    retry_after: float | None = None
    permanent: bool = False  # no request can succeed as it stands (an unusable URL)


def _post(http: httpx2.Client, head: Mapping[Any, Any]) -> _Answer:
    body = render(
        event_id=head["event_id"],
        event_type=head["event_type"],
        sequence=head["delivery_id"],
        subscription_id=head["subscription_id"],
        term=head["term"],
        occurred_at=utc(head["occurred_at"]),
        data=head["data"],
    )
    # Signed at the real time, whatever schedule clock the caller passed: the receiver checks it.
    headers = signed_headers(head["secret"], event_id=head["event_id"], body=body, now=datetime.now(UTC))
    try:
        # Streamed and never read: only the status matters, and a receiver cannot make the hub read a large body.
        with http.stream("POST", head["url"], content=body, headers=headers) as response:
            code = response.status_code
            error = None if 200 <= code < 300 else f"HTTP {code}"
            return _Answer(code, error, _retry_after(response.headers.get("Retry-After")))
    except httpx2.UnsupportedProtocol as problem:
        return _Answer(None, _describe(problem), permanent=True)
    except httpx2.TransportError as problem:  # refused, dropped, timed out: worth another try
        return _Answer(None, _describe(problem))
    except (httpx2.HTTPError, httpx2.InvalidURL) as problem:
        return _Answer(None, _describe(problem), permanent=True)


def _describe(problem: Exception) -> str:
    return f"{type(problem).__name__}: {problem}"[:_ERROR_LENGTH]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` of seconds (an HTTP date is ignored: backoff applies)."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


_first_pending = (
    sa.select(sa.func.min(webhook_delivery.c.delivery_id))
    .where(
        webhook_delivery.c.subscription_id == webhook_subscription.c.subscription_id,
        webhook_delivery.c.status == PENDING,
    )
    .correlate(webhook_subscription)
    .scalar_subquery()
)
_head_delivery = webhook_delivery.alias("head")
_queued = webhook_delivery.alias("queued")

# Each active subscription's oldest pending delivery, when it is due: an index seek per subscription.
_DUE = (
    sa.select(webhook_subscription.c.subscription_id)
    .join(oauth_client, oauth_client.c.client_id == webhook_subscription.c.client_id)
    .join(_head_delivery, _head_delivery.c.delivery_id == _first_pending)
    .where(
        webhook_subscription.c.active,
        sa.not_(oauth_client.c.disabled),
        _head_delivery.c.next_attempt_at <= sa.bindparam("now", type_=webhook_delivery.c.next_attempt_at.type),
    )
    .order_by(_head_delivery.c.delivery_id)
)

_HEAD = (
    sa.select(
        webhook_delivery,
        webhook_subscription.c.url,
        webhook_subscription.c.secret,
        webhook_subscription.c.active,
        webhook_subscription.c.client_id,
        oauth_client.c.roles,
        oauth_client.c.purposes,
        oauth_client.c.disabled,
    )
    .join(webhook_subscription, webhook_subscription.c.subscription_id == webhook_delivery.c.subscription_id)
    .join(oauth_client, oauth_client.c.client_id == webhook_subscription.c.client_id)
    .where(
        webhook_delivery.c.delivery_id
        == sa.select(sa.func.min(_queued.c.delivery_id))
        .where(_queued.c.subscription_id == sa.bindparam("subscription_id"), _queued.c.status == PENDING)
        .scalar_subquery()
    )
)


def _due_subscriptions(engine: sa.Engine, now: datetime) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(_DUE, {"now": now}).scalars())


def _lock_subscription(connection: sa.Connection, subscription_id: str) -> bool:
    """PostgreSQL: hold the subscription's row for this transaction, or False if another one holds it.

    NO KEY UPDATE, so detection inserting deliveries for it (a foreign key share lock) is not held up.
    """
    statement = (
        sa.select(webhook_subscription.c.subscription_id)
        .where(webhook_subscription.c.subscription_id == subscription_id)
        .with_for_update(skip_locked=True, key_share=True)
    )
    return connection.execute(statement).first() is not None


def _take_lease(engine: sa.Engine, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """SQLite: take or renew the one dispatcher lease; False while another worker's is unexpired."""
    lease_table = webhook_dispatch_lease
    try:
        with engine.begin() as connection:
            taken = connection.execute(
                lease_table.update()
                .where(
                    lease_table.c.name == LEASE_NAME,
                    sa.or_(
                        lease_table.c.owner.is_(None),
                        lease_table.c.owner == worker,
                        lease_table.c.expires_at <= now,
                    ),
                )
                .values(owner=worker, expires_at=now + lease)
            ).rowcount
            if taken:
                return True
            if connection.execute(sa.select(lease_table.c.name).where(lease_table.c.name == LEASE_NAME)).first():
                return False
            connection.execute(lease_table.insert().values(name=LEASE_NAME, owner=worker, expires_at=now + lease))
    except sa.exc.IntegrityError:  # another worker created the lease row first
        return False
    return True


def _release_lease(engine: sa.Engine, *, worker: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            webhook_dispatch_lease.update()
            .where(webhook_dispatch_lease.c.name == LEASE_NAME, webhook_dispatch_lease.c.owner == worker)
            .values(owner=None, expires_at=None)
        )
