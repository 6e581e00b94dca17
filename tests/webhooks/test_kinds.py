"""The event-kind registry: only registered kinds are queued, and only for clients allowed each kind's purpose."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from auth.clients import register_client
from auth.tables import oauth_client
from resolvers.students.changes import detect_changes
from resolvers.students.payloads import ELIGIBLE
from tests.webhooks.receiver import running
from tests.webhooks.support import (
    CLIENT,
    SECRET,
    T0,
    TERM,
    drain,
    http,
    register_student_aid,
    statuses,
    subscription,
)
from tests.world import STUDENT
from webhooks.kinds import KINDS, EventKind, UnknownEventKind
from webhooks.queue import QueuedEvent, enqueue
from webhooks.subscriptions import SubscriptionError, list_subscriptions, subscribe
from webhooks.tables import webhook_delivery

# A kind of another feature, with a purpose of its own, registered by these tests alone.
ALERT = EventKind("test.alert_raised", purpose="case-management", description="an alert a caseworker must act on")
EVENT = QueuedEvent(
    STUDENT,
    {"student": {"id_number": STUDENT}, "reasons": [{"code": "DIBAO"}], "aid_granted": False},
    {"revealed": ["Person.idNumber"], "masked": [], "withheld": [], "policy_version": None},
)


def _queue(engine: sa.Engine, subscription_id: str, kind: str) -> int:
    with engine.begin() as connection:
        return enqueue(
            connection, subscription_id=subscription_id, term=TERM, kind=kind, occurred_at=T0, events=[EVENT]
        )


def test_an_event_of_a_kind_no_feature_registered_is_never_queued(engine: sa.Engine) -> None:
    # given a subscription of the student-aid system
    register_student_aid(engine)
    sub = subscription(engine, "https://aid.example.org/hooks")
    # when an event of a registered kind is queued for it, then one of a kind nobody registered
    queued = _queue(engine, sub, ELIGIBLE)
    with pytest.raises(UnknownEventKind, match="'student.eligble' is not registered"):
        _queue(engine, sub, "student.eligble")
    # then only the registered one waits to be sent
    with engine.connect() as connection:
        waiting = connection.execute(sa.select(webhook_delivery.c.event_type, webhook_delivery.c.status)).all()
    assert queued == 1
    assert [tuple(row) for row in waiting] == [(ELIGIBLE, "pending")]


def test_a_client_must_be_allowed_the_purpose_of_every_kind_its_subscription_names(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a kind with the purpose case-management registered beside the students' kinds, the student-aid
    # client (allowed student-aid only) and a client allowed both purposes
    monkeypatch.setitem(KINDS, ALERT.name, ALERT)
    register_student_aid(engine)
    register_client(
        engine,
        client_id="county-office",
        department="civil_affairs",
        roles=["student-aid"],
        regions=["3505"],
        purposes=["student-aid", "case-management"],
    )
    # when each subscribes to both kinds, and the student-aid client to the student events alone
    with pytest.raises(SubscriptionError, match="may not declare the purpose 'case-management'"):
        subscribe(
            engine, client_id=CLIENT, url="https://aid.example.org/hooks", terms=[TERM], events=[ELIGIBLE, ALERT.name]
        )
    both, _ = subscribe(
        engine,
        client_id="county-office",
        url="https://county.example.org/hooks",
        terms=[TERM],
        events=[ELIGIBLE, ALERT.name],
    )
    students, _ = subscribe(engine, client_id=CLIENT, url="https://aid.example.org/hooks", terms=[TERM])
    # then the refused one was not made, and a subscription naming no events has the student events
    assert sorted(list_subscriptions(engine), key=lambda made: made.client_id) == [both, students]
    assert both.events == (ELIGIBLE, ALERT.name)
    assert students.events == ("student.eligible", "student.no_longer_eligible")


def test_a_subscription_names_registered_kinds_and_terms_only_for_student_events(engine: sa.Engine) -> None:
    register_student_aid(engine)
    url = "https://aid.example.org/hooks"
    with pytest.raises(SubscriptionError, match="'student.eligble' is not registered"):
        subscribe(engine, client_id=CLIENT, url=url, terms=[TERM], events=["student.eligble"])
    with pytest.raises(SubscriptionError, match="student events needs at least one term"):
        subscribe(engine, client_id=CLIENT, url=url, events=[ELIGIBLE])
    with pytest.raises(SubscriptionError, match="terms belong to student events"):
        subscribe(engine, client_id=CLIENT, url=url, terms=[TERM], events=["alert.raised"])


def _allow(engine: sa.Engine, client_id: str, purposes: list[str]) -> None:
    """What an operator changing a registration does (no command changes purposes yet)."""
    with engine.begin() as connection:
        connection.execute(oauth_client.update().where(oauth_client.c.client_id == client_id).values(purposes=purposes))


def test_a_client_that_lost_a_kinds_purpose_is_neither_detected_for_nor_sent_that_kind(engine: sa.Engine) -> None:
    # given a subscription of the student-aid system with one event queued
    register_student_aid(engine)
    with running(SECRET) as receiver, http() as client:
        sub = subscription(engine, receiver.url)
        _queue(engine, sub, ELIGIBLE)
        [(queued, _, _)] = statuses(engine)
        # when the client may no longer declare the purpose student-aid, and detection and delivery run
        _allow(engine, CLIENT, ["comparison"])
        detected = detect_changes(engine, term=TERM, now=T0)
        drain(engine, client)
        held = statuses(engine)
        # and once it may again
        _allow(engine, CLIENT, ["comparison", "student-aid"])
        drain(engine, client)
    # then detection skipped it, saying why, and the event waited unsent until the purpose came back
    assert [item.skipped for item in detected.subscriptions] == [
        "the client may no longer declare the purpose 'student-aid'"
    ]
    assert held == [(queued, "pending", 0)]
    assert receiver.event_ids == [queued] and statuses(engine) == [(queued, "delivered", 1)]
