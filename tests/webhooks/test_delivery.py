"""Delivering webhooks to a real local receiver: order, retries, backoff, refusals, restarts, several
dispatchers, the audit trail."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
import sqlalchemy as sa

from aidgraph.db import create_engine
from auth.audit import AuditLog, AuditUnavailable, access_log
from tests.webhooks.receiver import DROP, running
from tests.webhooks.support import (
    CLIENT,
    FAST,
    SECRET,
    T0,
    TERM,
    drain,
    enqueue,
    http,
    register_student_aid,
    statuses,
    subscription,
)
from webhooks.delivery import RetryPolicy, deliver_due
from webhooks.dispatcher import Dispatcher
from webhooks.log import delivery_log, requeue_failed
from webhooks.subscriptions import deactivate
from webhooks.tables import webhook_delivery


def test_deliveries_arrive_in_order_exactly_as_enqueued_after_retries(engine: sa.Engine) -> None:
    # given five queued events, and a receiver that first drops the connection, then answers 503 twice
    register_student_aid(engine)
    with running(SECRET, plan=[DROP, 503, 503]) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 5)
        # when the hub keeps delivering as time passes
        drain(engine, client)
    # then every event arrived once, in queue order, and nothing overtook the first while it waited
    assert receiver.event_ids == queued
    assert receiver.duplicates == 0
    assert [seen.event_id for seen in receiver.seen[:4]] == [queued[0]] * 4
    assert len({seen.body for seen in receiver.seen[:4]}) == 1  # a retry is the same bytes
    sequences = [event["sequence"] for event in receiver.events]
    assert sequences == sorted(sequences) and len(set(sequences)) == 5
    first = receiver.events[0]
    assert set(first) == {"id", "type", "sequence", "subscription", "term", "occurred_at", "student", "reasons"} | {
        "aid_granted"
    }
    assert (first["type"], first["term"], first["subscription"], first["occurred_at"]) == (
        "student.eligible",
        TERM,
        sub,
        "2026-11-24T08:00:00Z",
    )
    # and the log keeps each attempt of the first: no answer, 503, 503, then 200
    oldest = delivery_log(engine, subscription_id=sub)[-1]
    assert oldest.event_id == queued[0] and oldest.status == "delivered"
    assert [(a.outcome, a.status_code) for a in oldest.history] == [
        ("retry", None),
        ("retry", 503),
        ("retry", 503),
        ("delivered", 200),
    ]
    assert oldest.history[0].error is not None and "RemoteProtocolError" in oldest.history[0].error
    assert [attempts for _, _, attempts in statuses(engine)] == [4, 1, 1, 1, 1]


def test_retries_back_off_exponentially_up_to_the_cap_then_the_delivery_is_given_up(engine: sa.Engine) -> None:
    # given a receiver that is down, and a policy of 10 s doubling, capped at one minute, five attempts
    register_student_aid(engine)
    with running(SECRET) as receiver, http() as client:
        receiver.down = True
        sub = subscription(engine, receiver.url)
        enqueue(engine, sub, 1)
        waits, now = [], T0
        for _ in range(5):
            # when the hub tries exactly when the delivery is due (and a second earlier finds nothing due)
            assert deliver_due(engine, http=client, now=now - timedelta(seconds=1), policy=FAST).attempted == 0
            report = deliver_due(engine, http=client, now=now, policy=FAST, draw=lambda: 0.0)
            assert report.attempted == 1
            [entry] = delivery_log(engine, subscription_id=sub)
            if entry.next_attempt_at is None:
                break
            waits.append((entry.next_attempt_at - now).total_seconds())
            now = entry.next_attempt_at
    # then the waits were 10, 20, 40, then the 60 s cap, and the fifth failure gave the delivery up
    assert waits == [10, 20, 40, 60]
    assert (entry.status, entry.attempts, entry.finished_at) == ("failed", 5, now)
    assert [a.outcome for a in entry.history] == ["retry"] * 4 + ["failed"]
    assert len(receiver.seen) == 5


def test_the_jitter_adds_up_to_a_tenth_of_the_wait() -> None:
    # given the default policy, when waits are drawn at the edges and in between of the jitter
    policy = RetryPolicy()
    # then each lies between the exponential wait and a tenth above it, capped at one hour before jitter
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert policy.delay(1, draw=0.5).total_seconds() == pytest.approx(10.5)
    assert policy.delay(1, draw=0.999).total_seconds() == pytest.approx(10.999)
    assert policy.delay(12).total_seconds() == 3600
    assert policy.delay(400, draw=0.999).total_seconds() == pytest.approx(3600 * 1.0999)


def test_a_longer_retry_after_is_honoured(engine: sa.Engine) -> None:
    # given a receiver that answers 429 with Retry-After: 300
    register_student_aid(engine)
    with running(SECRET, plan=[429]) as receiver, http() as client:
        receiver.retry_after = "300"
        sub = subscription(engine, receiver.url)
        enqueue(engine, sub, 1)
        # when the hub tries once
        deliver_due(engine, http=client, now=T0, draw=lambda: 0.0)
    # then the next attempt waits the five minutes asked for, not the 10 s of the backoff
    [entry] = delivery_log(engine, subscription_id=sub)
    assert (entry.status, entry.next_attempt_at) == ("pending", T0 + timedelta(seconds=300))


def test_a_4xx_answer_is_not_retried_and_the_queue_moves_on(engine: sa.Engine) -> None:
    # given two queued events and a receiver that refuses the first with 400
    register_student_aid(engine)
    with running(SECRET, plan=[400]) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 2)
        # when the hub delivers, with time passing
        drain(engine, client)
    # then the first was given up after one attempt, and the second was delivered
    assert statuses(engine) == [(queued[0], "failed", 1), (queued[1], "delivered", 1)]
    assert receiver.event_ids == [queued[1]]
    failed = delivery_log(engine, subscription_id=sub, status="failed")
    assert [(a.outcome, a.status_code) for a in failed[0].history] == [("failed", 400)]
    assert failed[0].last_error == "HTTP 400"


def test_408_and_429_are_retried_like_5xx(engine: sa.Engine) -> None:
    # given a receiver that answers 408, then 429, then takes the event
    register_student_aid(engine)
    with running(SECRET, plan=[408, 429]) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 1)
        # when the hub delivers, with time passing
        drain(engine, client)
    # then it was tried three times and delivered
    assert statuses(engine) == [(queued[0], "delivered", 3)]
    assert receiver.event_ids == queued


def test_requeued_failures_go_out_again_in_their_order(engine: sa.Engine) -> None:
    # given a delivery given up after a 400 (the receiver was misconfigured, and is fixed since)
    register_student_aid(engine)
    with running(SECRET, plan=[400]) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 1)
        drain(engine, client)
        assert statuses(engine) == [(queued[0], "failed", 1)]
        # when the operator requeues the subscription's failures and the hub delivers
        assert requeue_failed(engine, subscription_id=sub, now=T0) == 1
        drain(engine, client)
    # then it arrives, and the log keeps both attempts
    assert receiver.event_ids == queued
    [entry] = delivery_log(engine, subscription_id=sub)
    assert [a.outcome for a in entry.history] == ["failed", "delivered"]


def test_an_inactive_subscription_keeps_its_deliveries_unsent(engine: sa.Engine) -> None:
    # given a queued event of a subscription that is then deactivated
    register_student_aid(engine)
    with running(SECRET) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 1)
        deactivate(engine, sub)
        # when the hub delivers
        report = deliver_due(engine, http=client, now=T0)
    # then nothing was sent and the event is still pending
    assert report.attempted == 0 and receiver.seen == []
    assert statuses(engine) == [(queued[0], "pending", 0)]


class Crash(BaseException):
    """The hub dying between the receiver's answer and storing it."""


class _CrashAfterSending(httpx2.HTTPTransport):
    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = super().handle_request(request)
        response.read()
        response.close()
        raise Crash


def test_a_restarted_hub_sends_what_was_pending_and_the_receiver_drops_the_repeat(store_url: str) -> None:
    # given a hub that queued three events and died right after the receiver took the first
    engine = create_engine(store_url)
    register_student_aid(engine)
    just_now = datetime.now(UTC) - timedelta(minutes=1)
    with running(SECRET) as receiver:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 3, at=just_now)
        with httpx2.Client(transport=_CrashAfterSending(), trust_env=False) as crashing, pytest.raises(Crash):
            deliver_due(engine, http=crashing)
        engine.dispose()
        assert receiver.event_ids == queued[:1]
        # when a new hub starts on the same store: a new engine and a running dispatcher
        restarted = create_engine(store_url)
        try:
            with http() as client:
                asyncio.run(_dispatch_until(restarted, client, lambda: _all_delivered(restarted)))
            final = statuses(restarted)
        finally:
            restarted.dispose()
    # then every event arrived; the first twice, which the receiver dropped by its event id
    assert receiver.event_ids == queued
    assert receiver.duplicates == 1
    assert final == [(event_id, "delivered", 1) for event_id in queued]  # the lost attempt was never stored


async def _dispatch_until(engine: sa.Engine, client: httpx2.Client, done: Callable[[], bool]) -> None:
    async with Dispatcher(engine, interval=0.05, http=client):
        deadline = time.monotonic() + 10
        while not done():
            assert time.monotonic() < deadline, "the dispatcher did not deliver in time"
            await asyncio.sleep(0.02)


def _all_delivered(engine: sa.Engine) -> bool:
    return all(status == "delivered" for _, status, _ in statuses(engine))


def test_a_dispatcher_delivers_while_the_receiver_comes_back(engine: sa.Engine) -> None:
    # given a receiver that is down when the events are queued, and a dispatcher polling every 50 ms
    register_student_aid(engine)
    fast = RetryPolicy(first=timedelta(milliseconds=50), cap=timedelta(milliseconds=100), jitter=0.0)
    with running(SECRET) as receiver, http() as client:
        receiver.down = True
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 3, at=datetime.now(UTC))

        async def scenario() -> None:
            async with Dispatcher(engine, interval=0.05, http=client, policy=fast):
                deadline = time.monotonic() + 10
                while len(receiver.seen) < 2:  # failed attempts while the receiver is down
                    assert time.monotonic() < deadline, "the dispatcher did not try in time"
                    await asyncio.sleep(0.02)
                receiver.down = False
                while not _all_delivered(engine):
                    assert time.monotonic() < deadline, "the dispatcher did not deliver in time"
                    await asyncio.sleep(0.02)

        # when the receiver comes back up
        asyncio.run(scenario())
    # then the events arrived in order, the first after failed attempts
    assert receiver.event_ids == queued
    assert sum(1 for seen in receiver.seen if seen.answer == 503) >= 2
    assert statuses(engine)[0][2] >= 3


def test_two_dispatchers_never_send_the_same_delivery_at_once(engine: sa.Engine) -> None:
    # given three subscriptions with ten events each, and a receiver taking 20 ms per request
    register_student_aid(engine)
    with running(SECRET, delay=0.02) as receiver:
        subs = [subscription(engine, receiver.url) for _ in range(3)]
        queued = {sub: enqueue(engine, sub, 10) for sub in subs}
        start = threading.Barrier(2)
        attempted = [0, 0]

        def dispatcher(number: int) -> None:
            with http() as client:
                start.wait()
                deadline = time.monotonic() + 30
                while not _all_delivered(engine) and time.monotonic() < deadline:
                    report = deliver_due(engine, http=client, now=T0, worker=f"worker-{number}")
                    attempted[number] += report.attempted
                    if report.busy or not report.attempted:
                        time.sleep(0.005)

        # when two dispatchers work the queue at the same time
        threads = [threading.Thread(target=dispatcher, args=(number,)) for number in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # then each event was sent exactly once, one at a time per subscription, in its order
    assert len(receiver.seen) == 30 and receiver.duplicates == 0
    assert sum(attempted) == 30
    assert max(receiver.most_in_flight.values()) == 1
    for sub in subs:
        assert [event["id"] for event in receiver.events if event["subscription"] == sub] == queued[sub]
    if engine.dialect.name == "postgresql":
        assert min(attempted) > 0  # row locks share the work out; SQLite's lease lets one send at a time


def test_each_delivery_is_audited_before_it_is_sent(engine: sa.Engine) -> None:
    # given a queued event about a student
    register_student_aid(engine)
    with running(SECRET) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        [event_id] = enqueue(engine, sub, 1)
        # when it is delivered
        drain(engine, client)
    # then the student's access log names the client, the purpose and the webhook
    student = receiver.events[0]["student"]["id_number"]
    [entry] = access_log(engine, student, first=10)
    assert (entry.client_id, entry.purpose, entry.operation) == (CLIENT, "student-aid", "webhook student.eligible")
    assert entry.revealed == ("Person.idNumber",)
    with engine.connect() as connection:
        audit_seq = connection.execute(
            sa.select(webhook_delivery.c.audit_seq).where(webhook_delivery.c.event_id == event_id)
        ).scalar_one()
    assert audit_seq == entry.seq


def test_nothing_is_sent_when_the_audit_trail_cannot_be_written(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a queued event and an audit trail that refuses writes
    register_student_aid(engine)

    def unavailable(self: AuditLog, event: object) -> int:
        raise AuditUnavailable("the audit event could not be written: OperationalError")

    monkeypatch.setattr(AuditLog, "append", unavailable)
    with running(SECRET) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        queued = enqueue(engine, sub, 1)
        # when the hub tries to deliver
        with pytest.raises(AuditUnavailable):
            deliver_due(engine, http=client, now=T0)
    # then nothing left the hub and the event waits, untried
    assert receiver.seen == []
    assert statuses(engine) == [(queued[0], "pending", 0)]


def test_a_failed_round_is_logged_by_type_and_place_never_by_message(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a round that fails with a message quoting a resident id, as a database's error can
    quoted = "350583195003101116"

    async def failing(self: Dispatcher) -> None:
        raise RuntimeError(f"duplicate key (id_number)=({quoted})")

    monkeypatch.setattr(Dispatcher, "run_once", failing)

    async def one_round() -> None:
        async with Dispatcher(engine, interval=0.05):
            await asyncio.sleep(0.2)

    # when the dispatcher polls
    with caplog.at_level("ERROR", logger="aidgraph.notify"):
        asyncio.run(one_round())
    # then the failure is logged with its type, and the id nowhere in the record
    failures = [record for record in caplog.records if "webhook dispatch failed" in record.getMessage()]
    assert failures and "RuntimeError" in failures[0].getMessage()
    assert all(quoted not in record.getMessage() and record.exc_info is None for record in caplog.records)
